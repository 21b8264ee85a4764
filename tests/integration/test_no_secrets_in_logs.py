"""No secret in any log or audit event, over a whole journey (issue 14).

A guardian registers (activation key, password, email), confirms the email, is provisioned,
signs in (once with a wrong password) through an app's authorization request, chooses security
questions, the app exchanges the code, calls userinfo, refreshes, introspects and revokes; a
district back-end uses client credentials; the guardian asks for the username, resets the
password through the emailed link and the questions, signs in again and logs out through the
app (id_token_hint). Every log record is captured (root logger at DEBUG; `sqlalchemy.engine` at
INFO, which an operator may turn on: its parameters are hidden by `hide_parameters`; at DEBUG it
would also log result rows, see the README), and neither a record nor a column of `audit_event`
holds any secret the journey used.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.audit.models import AuditEvent
from idp.cli import main
from idp.config import Settings, SmtpSettings
from idp.extensions import db
from idp.registration.rules import normalize_key
from idp.services import Services
from tests.builders import csrf_token
from tests.integration.oidc.conftest import (
    SECRETS,
    authorize_params,
    basic_auth,
    exchange,
    new_pkce,
    redirect_query,
    sign_in_form,
)
from tests.integration.oidc.conftest import registered_clients as registered_clients  # fixture
from tests.integration.registration.conftest import Family
from tests.integration.registration.conftest import family as family  # fixture
from tests.smtp import SmtpSink

USERNAME = "MariaLee2026"
EMAIL = "maria.lee+portal@example.org"
PASSWORD = "maple syrup on pancakes"
WRONG_PASSWORD = "maple syrup on waffles"
NEW_PASSWORD = "quiet harbour at midnight"
ANSWERS = ("rex the dog", "oslo fjord", "hill road school")


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """This module's app delivers mail to a real SMTP server started by the test."""
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="plain", sender="p@x.org")
    return replace(settings, smtp=smtp)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at DEBUG, and the engine's statements at INFO, as an operator may set."""
    for name in ("sqlalchemy.engine", "werkzeug"):
        caplog.set_level(logging.INFO, logger=name)
    caplog.set_level(logging.DEBUG)  # last: set_level also sets the capturing handler's level
    return caplog


class Journey:
    """Drives the browser, the apps and the worker; collects every secret it uses."""

    def __init__(self, app: Flask, client: FlaskClient, smtp: SmtpSink) -> None:
        self.app, self.client, self.smtp = app, client, smtp
        self.secrets: dict[str, str] = {
            "password": PASSWORD,
            "wrong password": WRONG_PASSWORD,
            "new password": NEW_PASSWORD,
            "email": EMAIL,
            **{f"answer {n}": answer for n, answer in enumerate(ANSWERS, 1)},
            **{name: secret for name, secret in SECRETS.items()},
        }

    def keep(self, name: str, secret: str) -> str:
        """Remember a secret the journey met; return it."""
        assert secret, name
        self.secrets[name] = secret
        return secret

    def keep_session_cookie(self, when: str) -> None:
        """The browser's session cookie (its id grants the session)."""
        cookie = self.client.get_cookie("idp_session")
        assert cookie is not None
        self.keep(f"session cookie {when}", cookie.value)

    def post_form(self, url: str, data: dict[str, str], page_url: str | None = None) -> Any:
        """Post a form of ours with the CSRF token of the page that shows it."""
        page = self.client.get(page_url or url).get_data(as_text=True)
        return self.client.post(url, data={**data, "csrf_token": csrf_token(page)})

    def worker_once(self) -> str:
        """One run of `idp worker --once` (provisioning, outbox)."""
        result = self.app.test_cli_runner().invoke(main, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        return result.output

    def link_in_last_email(self, path: str) -> str:
        """The path and query of the link to `path` in the last email; its token is a secret."""
        message: EmailMessage = self.smtp.messages[-1]
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        found = re.search(rf"http://localhost({re.escape(path)}\?token=\S+)", part.get_content())
        assert found is not None, part.get_content()
        self.keep(f"{path} token", parse_qs(urlsplit(found[1]).query)["token"][0])
        return found[1]


def _register(journey: Journey, family: Family) -> None:
    args = ["activation", "issue", "--person-id", family.guardian.sis_person_id]
    args += ["--staff", "secretaryes1", "--id-type", "drivers_license"]
    letter = journey.app.test_cli_runner().invoke(main, args).output
    key = re.search(r"Activation key:\s+(\S+)", letter)
    assert key is not None, letter
    journey.keep("activation key", key[1])
    journey.keep("activation key digits", normalize_key(key[1]) or "")
    step_1 = {"person_id": family.guardian.sis_person_id, "activation_key": key[1]}
    assert journey.post_form("/register", step_1).status_code == 302
    details = {"username": USERNAME, "password": PASSWORD, "password_again": PASSWORD}
    details |= {"email": EMAIL, "locale": "en"}
    assert journey.post_form("/register/account", details).status_code == 302
    journey.worker_once()
    journey.client.get(journey.link_in_last_email("/verify-email"))
    assert "provisioned 1" in journey.worker_once()


def _sign_in_through_an_app(journey: Journey, services: Services) -> dict[str, Any]:
    """Wrong password once, then the right one; questions; the app gets its tokens."""
    client, pkce = journey.client, new_pkce()
    journey.keep("pkce verifier", pkce.verifier)
    form = sign_in_form(client.get("/authorize?" + urlencode(authorize_params(pkce))))
    wrong = {"username": USERNAME, "password": WRONG_PASSWORD}
    assert journey.post_form(form.action, wrong, "/sign-in").status_code == 401
    right = {"username": USERNAME, "password": PASSWORD}
    held = client.get(journey.post_form(form.action, right, "/sign-in").headers["Location"])
    journey.keep_session_cookie("after sign-in")
    questions = {"password": PASSWORD}
    keys = services.policies.credentials.security_questions.question_keys[:3]
    for number, (key, answer) in enumerate(zip(keys, ANSWERS, strict=True), 1):
        questions |= {f"question_{number}": key, f"answer_{number}": answer}
    resumed = journey.post_form(held.headers["Location"], questions)
    code = journey.keep("code", redirect_query(client.get(resumed.headers["Location"]))["code"])
    tokens = exchange(client, code, pkce).get_json()
    for name in ("access_token", "refresh_token", "id_token"):
        journey.keep(name, tokens[name])
    return dict(tokens)


def _use_the_tokens(journey: Journey, tokens: dict[str, Any]) -> None:
    client, auth = journey.client, basic_auth()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = client.post("/token", data=refresh, headers=auth).get_json()
    journey.keep("refreshed access_token", refreshed["access_token"])
    journey.keep("refreshed refresh_token", refreshed["refresh_token"])
    replay = client.post("/token", data=refresh, headers=auth)  # reuse: the family is revoked
    assert replay.status_code == 400
    introspected = {"token": refreshed["access_token"]}
    assert client.post("/introspect", data=introspected, headers=auth).status_code == 200
    revoked = {"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"}
    assert client.post("/revoke", data=revoked, headers=auth).status_code == 200
    backend = {"grant_type": "client_credentials", "scope": "openid"}
    answer = client.post("/token", data=backend, headers=basic_auth("district-reports"))
    journey.keep("client_credentials access_token", answer.get_json()["access_token"])


def _recover(journey: Journey) -> None:
    assert journey.post_form("/forgot-username", {"email": EMAIL}).status_code == 200
    assert journey.post_form("/forgot-password", {"username": USERNAME}).status_code == 200
    assert "sent 2" in journey.worker_once()
    link = journey.link_in_last_email("/reset-password")
    page = journey.client.get(link).get_data(as_text=True)
    chosen = re.findall(r'name="answer_(\w+)"', page)
    given = dict(zip(_question_keys(journey), ANSWERS, strict=True))
    form = {f"answer_{key}": given[key] for key in chosen}
    form |= {"token": journey.secrets["/reset-password token"], "csrf_token": csrf_token(page)}
    new_page = journey.client.post("/reset-password", data=form).get_data(as_text=True)
    proof = re.search(r'name="proof"[^>]*value="([^"]+)"', new_page)
    assert proof is not None, new_page
    journey.keep("reset proof", proof[1])
    done = {"proof": proof[1], "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    done |= {"csrf_token": csrf_token(new_page)}
    assert journey.client.post("/reset-password/new", data=done).status_code == 200
    journey.worker_once()  # the "password changed" notice


def _question_keys(journey: Journey) -> list[str]:
    services: Services = journey.app.extensions["idp.services"]
    return list(services.policies.credentials.security_questions.question_keys[:3])


def _sign_in_again_and_log_out(journey: Journey) -> None:
    again = {"username": USERNAME.lower(), "password": NEW_PASSWORD}
    assert journey.post_form("/sign-in", again).status_code == 302
    journey.keep_session_cookie("after the reset")
    pkce = new_pkce()
    code = redirect_query(journey.client.get("/authorize?" + urlencode(authorize_params(pkce))))
    tokens = exchange(journey.client, journey.keep("second code", code["code"]), pkce).get_json()
    hint = journey.keep("second id_token", tokens["id_token"])
    journey.keep("second access_token", tokens["access_token"])
    query = {"id_token_hint": hint, "post_logout_redirect_uri": "http://127.0.0.1:5001/"}
    assert journey.client.get("/end-session?" + urlencode(query)).status_code == 302


# aiosmtpd's logger: the test's SMTP server, standing in for the district's mail server (which
# receives the messages, addresses and links by design). Not a log of the provider.
_MAIL_SERVER_LOGGER = "mail.log"
_FORMATTER = logging.Formatter("%(levelname)s %(name)s %(message)s")


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Each record of the provider as a handler writes it (exception included), plus its raw
    arguments."""
    # get_records("call") keeps only the run's configured level (INFO); caplog.records has all.
    records = [
        record
        for record in caplog.get_records("setup") + caplog.records
        if not record.name.startswith(_MAIL_SERVER_LOGGER)
    ]
    return "\n".join(f"{_FORMATTER.format(record)}\n{record.args!r}" for record in records)


def _audit_text() -> str:
    rows = db.session.execute(select(AuditEvent)).scalars()
    return "\n".join(
        repr({c.key: getattr(row, c.key) for c in AuditEvent.__table__.c}) for row in rows
    )


def _forms(secret: str) -> set[str]:
    """A secret as it may be written: as is, or escaped in a URL."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def test_no_secret_of_a_whole_journey_reaches_a_log_or_the_audit_table(
    app: Flask,
    client: FlaskClient,
    services: Services,
    family: Family,
    registered_clients: None,
    smtp_sink: SmtpSink,
    logs: pytest.LogCaptureFixture,
) -> None:
    journey = Journey(app, client, smtp_sink)
    _register(journey, family)
    tokens = _sign_in_through_an_app(journey, services)
    _use_the_tokens(journey, tokens)
    _recover(journey)
    _sign_in_again_and_log_out(journey)

    log_text, audit_text = _log_text(logs), _audit_text()
    leaked = {
        (name, where)
        for name, secret in journey.secrets.items()
        for where, text in (("log", log_text), ("audit_event", audit_text))
        if any(form in text for form in _forms(secret))
    }
    assert leaked == set()
    assert len(journey.secrets) >= 25
    assert "recovery:password:reset" in audit_text
    assert "sqlalchemy.engine" in logs.text  # the engine's log was on, parameters hidden
