"""The OpenID Provider metadata document: complete, truthful, validated by Authlib."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import rfc9207
from authlib.oidc.discovery import OpenIDProviderMetadata

from idp.oidc.authorize import ACR_PASSWORD, ACR_STUDENT_BIRTHDATE

UI_LOCALES = ["en", "es", "vi", "ar", "so"]


def build_discovery(issuer: str, scopes: list[str], claims: list[str]) -> dict[str, Any]:
    """Metadata for `issuer`; raises if Authlib's validation finds it incomplete."""
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "end_session_endpoint": f"{issuer}/end-session",
        "scopes_supported": scopes,
        "claims_supported": sorted(
            {
                *claims,
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "amr",
                "sid",
                "azp",
                "at_hash",
            }
        ),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": [ACR_PASSWORD, ACR_STUDENT_BIRTHDATE],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": UI_LOCALES,
        "claims_locales_supported": UI_LOCALES,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    OpenIDProviderMetadata(document).validate(
        metadata_classes=[rfc9207.AuthorizationServerMetadata]
    )
    return document
