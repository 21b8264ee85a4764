"""CSP form-action on pages: 'self' plus the registered apps' origins, since Chromium applies
form-action to the redirects after a form (sign-in -> /authorize -> the app's callback)."""

from __future__ import annotations

from flask.testing import FlaskClient


def _form_action(client: FlaskClient, path: str) -> list[str]:
    policy = client.get(path).headers["Content-Security-Policy"]
    (directive,) = [part.strip() for part in policy.split(";") if "form-action" in part]
    return directive.split()[1:]


def test_pages_may_send_forms_on_to_registered_app_origins(
    client: FlaskClient, registered_clients: None
) -> None:
    targets = _form_action(client, "/sign-in")

    assert targets[0] == "'self'"
    assert "http://127.0.0.1:5001" in targets  # clients/grades.toml redirect URI
    assert "http://127.0.0.1:5002" in targets  # clients/attendance.toml
    assert all(target == "'self'" or target.startswith("http") for target in targets)


def test_json_endpoints_allow_no_form_targets_but_self(
    client: FlaskClient, registered_clients: None
) -> None:
    assert _form_action(client, "/.well-known/openid-configuration") == ["'self'"]


def test_without_registered_apps_pages_allow_only_self(client: FlaskClient) -> None:
    assert _form_action(client, "/sign-in") == ["'self'"]


def test_a_redirect_needs_no_form_targets(client: FlaskClient, registered_clients: None) -> None:
    response = client.get("/preferences")  # not signed in: sent to the sign-in page

    assert response.status_code == 302
    assert "form-action 'self';" in response.headers["Content-Security-Policy"]
