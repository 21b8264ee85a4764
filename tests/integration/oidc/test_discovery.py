"""OpenID Provider metadata (OIDC Discovery 1.0 section 3) and the published JWKS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import ISSUER

# OIDC Discovery 1.0 section 3: the REQUIRED members (token_endpoint: not implicit-only).
REQUIRED_FIELDS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)
ENDPOINT_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "introspection_endpoint",
    "end_session_endpoint",
)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@pytest.fixture
def metadata(client: FlaskClient, registered_clients: None) -> dict[str, Any]:
    """The discovery document."""
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


@pytest.fixture
def jwks(client: FlaskClient, registered_clients: None) -> list[dict[str, Any]]:
    """The published keys."""
    response = client.get("/jwks.json")
    assert response.status_code == 200
    keys: list[dict[str, Any]] = response.get_json()["keys"]
    return keys


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_discovery_has_every_field_the_spec_requires(metadata: dict[str, Any], field: str) -> None:
    assert metadata[field]


def test_discovery_issuer_is_the_configured_issuer(metadata: dict[str, Any]) -> None:
    assert metadata["issuer"] == ISSUER


@pytest.mark.parametrize("field", ENDPOINT_FIELDS)
def test_discovery_endpoints_start_with_the_issuer(metadata: dict[str, Any], field: str) -> None:
    assert metadata[field].startswith(ISSUER + "/")


@pytest.mark.parametrize("field", ENDPOINT_FIELDS)
def test_discovery_endpoints_are_served(
    client: FlaskClient, metadata: dict[str, Any], field: str
) -> None:
    response = client.get(urlsplit(metadata[field]).path)

    assert response.status_code not in (404, 500)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("response_types_supported", ["code"]),
        ("code_challenge_methods_supported", ["S256"]),
        ("subject_types_supported", ["public"]),
        ("request_parameter_supported", False),
        ("request_uri_parameter_supported", False),
        ("backchannel_logout_supported", True),
        ("backchannel_logout_session_supported", True),
    ],
)
def test_discovery_advertises_exactly(metadata: dict[str, Any], field: str, value: Any) -> None:
    assert metadata[field] == value


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_discovery_offers_id_token_signing_alg(metadata: dict[str, Any], alg: str) -> None:
    assert alg in metadata["id_token_signing_alg_values_supported"]


@pytest.mark.parametrize("locale", ["en", "es", "vi", "ar", "so"])
def test_discovery_lists_every_ui_locale(metadata: dict[str, Any], locale: str) -> None:
    assert locale in metadata["ui_locales_supported"]


@pytest.mark.parametrize("scope", ["openid", "profile", "email", "offline_access"])
def test_discovery_lists_the_scopes(metadata: dict[str, Any], scope: str) -> None:
    assert scope in metadata["scopes_supported"]


def test_discovery_claims_include_sub(metadata: dict[str, Any]) -> None:
    assert "sub" in metadata["claims_supported"]


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/jwks.json"])
def test_metadata_and_keys_are_cacheable(
    client: FlaskClient, registered_clients: None, path: str
) -> None:
    response = client.get(path)

    cache_control = response.cache_control
    assert cache_control.max_age is not None
    assert cache_control.max_age > 0
    assert not cache_control.no_store


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_jwks_publishes_a_public_key_with_a_kid_per_algorithm(
    jwks: list[dict[str, Any]], alg: str
) -> None:
    keys = [key for key in jwks if key.get("alg") == alg]

    assert keys
    assert all(key["kid"] and key["use"] == "sig" for key in keys)


@pytest.mark.parametrize("member", PRIVATE_MEMBERS)
def test_jwks_has_no_private_key_members(jwks: list[dict[str, Any]], member: str) -> None:
    assert all(member not in key for key in jwks)


def test_jwks_kids_are_unique(jwks: list[dict[str, Any]]) -> None:
    kids = [key["kid"] for key in jwks]

    assert len(kids) == len(set(kids))
