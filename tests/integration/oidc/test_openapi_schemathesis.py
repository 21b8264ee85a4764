"""docs/openapi.yaml against the provider itself (schemathesis, in-process over WSGI): for each
JSON endpoint, requests generated from the description (valid ones and invalid ones) never get a
5xx, and every answer is one the description lists: status code, content type, headers, body.

Generated client secrets and tokens are rarely right, so each example also draws a scenario
that puts valid credentials into the generated request (a registered client's secret, a fresh
code with its PKCE verifier, a live access or refresh token...), so that the success paths and
the errors after a successful client authentication are checked too, not only the 401s."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import count
from typing import Any
from urllib.parse import urlencode

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from idp.accounts.models import Account, AccountKind
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, relate
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    SECRETS,
    authorize_params,
    new_pkce,
    redirect_query,
    sign_in,
)

SPEC = PROJECT_ROOT / "docs" / "openapi.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MYKIDS_REDIRECT = "http://127.0.0.1:5003/callback"
FULL_SCOPE = "openid profile email students offline_access"  # every scope grades may ask
MYKIDS_SCOPE = "openid profile students offline_access"
OPERATIONS = [
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/jwks.json"),
    ("POST", "/token"),
    ("GET", "/userinfo"),
    ("POST", "/userinfo"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
]


def _secret(client_id: str) -> str:
    return SECRETS[f"IDP_CLIENT_SECRET_{client_id.upper().replace('-', '_')}"]


def _basic(client_id: str, secret: str | None = None) -> str:
    raw = f"{client_id}:{secret or _secret(client_id)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Code:
    """A fresh authorization code and what redeems it."""

    code: str
    verifier: str
    redirect_uri: str


class World:
    """A district with a signed-in guardian (one visible child), and the registered clients of
    clients/*.toml; mints codes and tokens on demand (through HTTP, as an app would)."""

    def __init__(self, app: Flask, services: Services, browser: FlaskClient) -> None:
        self.app = app
        self.services = services
        self.browser = browser  # the guardian's browser (its cookies hold the SSO session)

    def code(
        self, client_id: str = "grades", scope: str = FULL_SCOPE, browser: FlaskClient | None = None
    ) -> Code:
        """A code for `client_id` (grades or the public mykids-mobile), with PKCE."""
        redirect_uri = GRADES_REDIRECT if client_id == "grades" else MYKIDS_REDIRECT
        pkce = new_pkce()
        params = authorize_params(pkce, client_id=client_id, redirect_uri=redirect_uri, scope=scope)
        response = (browser or self.browser).get("/authorize?" + urlencode(params))
        return Code(redirect_query(response)["code"], pkce.verifier, redirect_uri)

    def tokens(self, scope: str = FULL_SCOPE, browser: FlaskClient | None = None) -> dict[str, Any]:
        """A token response of the grades app for the guardian (or `browser`'s account)."""
        code = self.code("grades", scope, browser)
        data = {
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": code.redirect_uri,
            "code_verifier": code.verifier,
        }
        response = self.browser.post(
            "/token", data=data, headers={"Authorization": _basic("grades")}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def client_credentials_token(self) -> str:
        """An access token of the district-reports back-end (no account behind it)."""
        response = self.browser.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic("district-reports")},
        )
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["access_token"])

    @cached_property
    def access_token(self) -> str:
        """A live access token with every scope of the grades app (so every claim)."""
        return str(self.tokens()["access_token"])

    @cached_property
    def student_access_token(self) -> str:
        """A live access token of a student (the `student` claim instead of `students`)."""
        account = make_account(self.services, "studentuser1", None, kind=AccountKind.STUDENT)
        person = make_person("student", date(2013, 4, 4), sis_person_id="S-SELF")
        enroll(person, make_school("DEMO-MS1", "Riverside Middle"), "07")
        account.person_id = person.id
        db.session.commit()
        browser = self.app.test_client()
        sign_in(browser, "studentuser1")
        return str(self.tokens("openid profile students", browser)["access_token"])

    @cached_property
    def profile_only_token(self) -> str:
        """A live access token without `openid` (userinfo answers 403)."""
        return str(self.tokens("profile")["access_token"])

    @cached_property
    def revoked_token(self) -> str:
        """An access token revoked at /revoke."""
        token = str(self.tokens()["access_token"])
        response = self.browser.post(
            "/revoke", data={"token": token}, headers={"Authorization": _basic("grades")}
        )
        assert response.status_code == 200
        return token


@pytest.fixture
def world(
    app: Flask, client: FlaskClient, services: Services, registered_clients: None, guardian: Account
) -> World:
    """parentuser1, signed in, the legal guardian of one student at an open school."""
    person = make_person("guardian", sis_person_id="G-OPENAPI")
    guardian.person_id = person.id
    child = make_person("student", date(2015, 2, 3), sis_person_id="S-OPENAPI", given_name="Ana")
    enroll(child, make_school("DEMO-ES1", "Lakeview Elementary"), "03")
    relate(person, child, "parent")
    db.session.commit()
    sign_in(client)
    return World(app, services, client)


# A scenario rewrites a generated case before it is sent: (case, world) -> None.
Scenario = Callable[[Any, World], None]


def _form(case: Any) -> dict[str, Any]:
    """The case's form body as a dict (a negative case may have generated another type)."""
    if not isinstance(case.body, dict):
        case.body = {}
    return case.body  # type: ignore[no-any-return]


def _authenticate(case: Any, client_id: str) -> None:
    """Client authentication as the client file of `client_id` says."""
    form = _form(case)
    for field in ("client_id", "client_secret"):
        form.pop(field, None)
    case.headers = {
        key: value for key, value in (case.headers or {}).items() if key != "Authorization"
    }
    if client_id == "library":  # client_secret_post
        form.update(client_id="library", client_secret=_secret("library"))
    elif client_id == "mykids-mobile":  # public client: its id alone
        form.update(client_id="mykids-mobile")
    else:
        case.headers["Authorization"] = _basic(client_id)


def _named(name: str, scenario: Scenario) -> Scenario:
    scenario.__name__ = name  # reported with a failure (hypothesis.note)
    return scenario


def _as_client(client_id: str) -> Scenario:
    def scenario(case: Any, world: World) -> None:
        _authenticate(case, client_id)

    return _named(f"authenticated as {client_id}", scenario)


def _code_grant(client_id: str) -> Scenario:
    def scenario(case: Any, world: World) -> None:
        code = world.code(client_id, FULL_SCOPE if client_id == "grades" else MYKIDS_SCOPE)
        _authenticate(case, client_id)
        _form(case).update(
            grant_type="authorization_code",
            code=code.code,
            redirect_uri=code.redirect_uri,
            code_verifier=code.verifier,
        )

    return _named(f"a fresh code of {client_id}", scenario)


def _refresh_grant(case: Any, world: World) -> None:
    refresh_token = world.tokens()["refresh_token"]
    _authenticate(case, "grades")
    form = _form(case)
    form.update(grant_type="refresh_token", refresh_token=refresh_token)


def _client_credentials_grant(case: Any, world: World) -> None:
    _authenticate(case, "district-reports")
    _form(case)["grant_type"] = "client_credentials"


def _unchanged(case: Any, world: World) -> None:
    """The case as generated."""


TOKEN_SCENARIOS: list[Scenario] = [
    _unchanged,
    _as_client("grades"),
    _as_client("library"),
    _as_client("mykids-mobile"),
    _code_grant("grades"),
    _code_grant("mykids-mobile"),
    _refresh_grant,
    _client_credentials_grant,
]


# Tokens a scenario may present: (what it is, how to get one).
TOKENS: list[tuple[str, Callable[[World], str]]] = [
    ("the guardian's access token (all scopes)", lambda world: world.access_token),
    ("a fresh access token", lambda world: str(world.tokens()["access_token"])),
    ("a fresh refresh token", lambda world: str(world.tokens()["refresh_token"])),
    ("a student's access token", lambda world: world.student_access_token),
    ("an access token without openid", lambda world: world.profile_only_token),
    ("a client credentials token", lambda world: world.client_credentials_token()),
    ("a revoked access token", lambda world: world.revoked_token),
]


def _bearer(name: str, token: Callable[[World], str]) -> Scenario:
    def scenario(case: Any, world: World) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token(world)}"}

    return _named(f"Bearer {name}", scenario)


USERINFO_SCENARIOS: list[Scenario] = [
    _unchanged,
    *(_bearer(name, token) for name, token in TOKENS if "refresh" not in name),
]
CLIENTS = [None, "grades", "district-reports", "library", "mykids-mobile", "attendance"]


def _token_management(
    client_id: str | None, token: tuple[str, Callable[[World], str]] | None
) -> Scenario:
    def scenario(case: Any, world: World) -> None:
        if client_id is not None:
            _authenticate(case, client_id)
        if token is not None:
            _form(case)["token"] = token[1](world)

    client = f"authenticated as {client_id}" if client_id else "generated client"
    return _named(f"{client}, {token[0] if token else 'generated token'}", scenario)


TOKEN_MANAGEMENT_SCENARIOS = [
    _token_management(client_id, token) for client_id in CLIENTS for token in [None, *TOKENS]
]


def _authorization(value: str) -> Scenario:
    def scenario(case: Any, world: World) -> None:
        case.headers = {**(case.headers or {}), "Authorization": value}

    return _named(f"Authorization: {value!r}", scenario)


# Header values are Latin-1 on the wire; these are the printable ones.
LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
# Authorization headers no registered client sends: bytes of any kind behind Basic (not UTF-8,
# NUL, no colon...), a known or unknown client id with a wrong secret, not base64 at all,
# another scheme.
odd_authorizations = (
    st.one_of(
        st.binary(max_size=48).map(lambda raw: "Basic " + base64.b64encode(raw).decode()),
        st.builds(
            _basic,
            st.sampled_from([*CLIENTS[1:], "nobody", ""]),
            st.text(alphabet=LATIN1, min_size=1, max_size=20),
        ),
        st.text(alphabet=LATIN1, max_size=40).map(lambda text: "Basic " + text),
        st.text(alphabet=LATIN1, max_size=40).map(lambda text: "Bearer " + text),
        st.text(alphabet=LATIN1, max_size=40),
    )
    .filter(
        # Leading white space is not a header value (RFC 9110 5.5); the report's curl command,
        # built by `requests`, refuses it.
        lambda value: not value[:1].isspace()
    )
    .map(_authorization)
)


# What each example of an operation does to its generated case, in turn (Hypothesis' own
# choices lean on the first entries); None: an odd Authorization header drawn by Hypothesis.
PLANS: dict[str, list[Scenario | None]] = {
    "/token": [*TOKEN_SCENARIOS, None, None],
    "/userinfo": [*USERINFO_SCENARIOS, None],
    "/introspect": [*TOKEN_MANAGEMENT_SCENARIOS, *[None] * 8],
    "/revoke": [*TOKEN_MANAGEMENT_SCENARIOS, *[None] * 8],
}
# About two rounds of each plan (50 examples for the others).
MAX_EXAMPLES = {"/introspect": 120, "/revoke": 120}


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    """Valid and invalid requests (schemathesis' positive and negative modes)."""
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if operation.method.upper() == "GET" and operation.path != "/userinfo":
        return positive  # nothing to get wrong: no parameters, no body
    return st.one_of(positive, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_endpoint_answers_as_openapi_describes(
    app: Flask, world: World, method: str, path: str
) -> None:
    schema = schemathesis.openapi.from_path(SPEC)
    schema.app = app
    operation = schema[path][method]
    api = app.test_client()  # no cookies: an app's back-end, not a browser
    plan = PLANS.get(path, [_unchanged])
    turns = count()

    # No shrinking: examples share the database (codes are used, tokens revoked), so a replay
    # is not the same request; a failure reports the request as sent (with a curl command).
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES.get(path, 50),
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=_cases(operation), data=st.data())
    def check(case: Any, data: st.DataObject) -> None:
        odd = data.draw(odd_authorizations)  # drawn every time: the draws must not depend on turns
        scenario = plan[next(turns) % len(plan)] or odd
        hypothesis.note(f"scenario: {scenario.__name__}")
        scenario(case, world)
        response = case.call(session=api)
        case.validate_response(response, checks=CHECKS)

    check()


def test_description_is_a_valid_openapi_3_1_document() -> None:
    document = schemathesis.openapi.from_path(SPEC).raw_schema

    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    schemas = document["components"]["schemas"]
    invalid_schemas = [
        name for name, schema in schemas.items() if not jsonschema_rs.meta.is_valid(schema)
    ]

    assert document["openapi"] == "3.1.0"
    assert errors == []
    assert invalid_schemas == []


def test_description_has_exactly_the_json_endpoints_of_the_provider(app: Flask) -> None:
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("oidc_endpoints.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }

    assert routes == set(OPERATIONS)


# Found by the test above (issue 14): Authlib decodes HTTP Basic credentials itself and raises
# on some values the input guard lets through. `\xa0` is a byte on the wire, which servers keep
# (gunicorn trims only spaces and tabs).
ODD_AUTHORIZATIONS = [
    "Basic \u00e9",  # not ASCII: base64.b64decode raises ValueError
    "Basic Z3JhZGVz\u00e9",
    "Basic \u00a0",  # nothing after the scheme but white space: split() finds one part
    "Basic ",
    "Bearer \u00a0",
]
FORMS = {
    "/token": {"grant_type": "client_credentials"},
    "/introspect": {"token": "an-unknown-token"},
    "/revoke": {"token": "an-unknown-token"},
}


@pytest.mark.parametrize("path", list(FORMS))
@pytest.mark.parametrize("authorization", ODD_AUTHORIZATIONS)
def test_an_odd_authorization_header_gets_an_answer_the_description_lists(
    app: Flask, registered_clients: None, path: str, authorization: str
) -> None:
    schema = schemathesis.openapi.from_path(SPEC)
    schema.app = app
    case = schema[path]["POST"].Case(
        headers={"Authorization": authorization},
        body=dict(FORMS[path]),
        media_type="application/x-www-form-urlencoded",
    )

    response = case.call(session=app.test_client())

    case.validate_response(response, checks=CHECKS)
