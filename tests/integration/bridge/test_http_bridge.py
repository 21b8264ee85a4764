"""IDP_BRIDGE_MODE=http against a real local HTTP server standing in for the district's
verification URL: right, wrong, down, slow, broken; never a password in the URL or a log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from idp.bridge.errors import BridgePersonUnknownError, BridgeUnavailableError, UpgradeRequiredError
from idp.bridge.models import LegacyCredential
from idp.config import BridgeSettings, Settings
from idp.credentials.errors import InvalidCredentialsError, SignInLockedError
from idp.credentials.models import SignInThrottle
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import make_person
from tests.conftest import START
from tests.integration.bridge.conftest import alert, post_form, sign_in, verify_link
from tests.legacy import IC_PASSWORD
from tests.ports import free_port

WRONG = "Campus-Legacy-2018"


@dataclass
class Upstream:
    """The district's verification service: its accounts, what it answers, what it received."""

    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (password, id)
    status: int | None = None  # answer this status instead of checking
    body: bytes | None = None  # answer this body instead of checking
    is_hanging: bool = False  # never answer (until the test ends)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode(),
                "type": request.content_type,
                "json": request.get_json(silent=True),
            }
        )
        if self.is_hanging:
            self.release.wait(10)
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if self.status is not None or self.body is not None:
            response = Response(self.body or b"", status=self.status or 200)
            if 300 <= response.status_code < 400:
                response.headers["Location"] = "/elsewhere"
            return response
        sent = request.get_json(silent=True) or {}
        known = self.accounts.get(str(sent.get("username", "")).lower())
        if known is None or known[0] != sent.get("password"):
            return Response(json.dumps({"valid": False}), content_type="application/json")
        answer = {"valid": True, "person_id": known[1]}
        return Response(json.dumps(answer), content_type="application/json")


class Serving:
    """The upstream on a fixed local port, which can go down and come back up."""

    def __init__(self, service: Upstream) -> None:
        self.service = service
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = free_port()

    def start(self) -> None:
        """Listen (again) on the port."""
        server = make_server("127.0.0.1", self.port, self.service, threaded=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the port: connections are refused."""
        if self._server is None or self._thread is None:
            return
        self.service.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None


@pytest.fixture
def serving() -> Iterator[Serving]:
    """The verification service, served on a free local port."""
    service = Upstream()
    service.accounts["chenfamily7"] = (IC_PASSWORD, "G-3001")
    running = Serving(service)
    service.url = f"http://127.0.0.1:{running.port}/ic/verify"
    running.start()
    yield running
    running.stop()


@pytest.fixture
def upstream(serving: Serving) -> Upstream:
    """What the verification service knows, answers and received."""
    return serving.service


@pytest.fixture
def settings(settings: Settings, upstream: Upstream) -> Settings:
    """The app checks IC passwords at the upstream's URL, with a short timeout."""
    return replace(settings, bridge=BridgeSettings("http", upstream.url, 0.5))


def test_right_password_leads_to_the_upgrade_and_records_the_credential(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    with pytest.raises(UpgradeRequiredError) as caught:
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    credential = db.session.get(LegacyCredential, caught.value.upgrade.credential_id)
    assert credential is not None
    assert (credential.ic_username, credential.person_id) == ("ChenFamily7", guardian.id)
    assert (credential.scheme, credential.verifier, credential.imported_at) == ("remote", "", START)


def test_the_password_travels_in_a_json_post_body_never_in_the_url(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert upstream.requests == [
        {
            "method": "POST",
            "path": "/ic/verify",
            "query": "",
            "type": "application/json",
            "json": {"username": "ChenFamily7", "password": IC_PASSWORD},
        }
    ]


@pytest.mark.parametrize(("status", "body"), [(200, b'{"valid": false}'), (401, b""), (403, b"")])
def test_a_wrong_password_answer_counts_as_a_failure_and_locks(
    services: Services, guardian: Person, upstream: Upstream, status: int, body: bytes
) -> None:
    upstream.status, upstream.body = status, body
    for _ in range(services.policies.credentials.lockout.lock_after_failures):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in("ChenFamily7", WRONG)

    with pytest.raises(SignInLockedError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_upstream_down_says_try_again_later_and_never_locks(
    client: FlaskClient, services: Services, guardian: Person, serving: Serving
) -> None:
    serving.stop()
    answers = [sign_in(client, "ChenFamily7", IC_PASSWORD) for _ in range(8)]
    serving.start()

    back_up = sign_in(client, "ChenFamily7", IC_PASSWORD)

    assert {response.status_code for response in answers} == {503}
    assert alert(answers[0].get_data(as_text=True)) == (
        "The Infinite Campus check is not answering. Try again later."
    )
    assert db.session.execute(select(SignInThrottle)).first() is None
    assert back_up.headers["Location"] == "/upgrade"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"oops"),
        (503, b""),
        (200, b"<html>maintenance</html>"),
        (200, b'{"ok": true}'),
        (200, b'{"valid": true}'),  # right, but for whom?
        (404, b""),
    ],
)
def test_an_answer_that_is_not_yes_or_no_means_unavailable_without_a_failure(
    services: Services, guardian: Person, upstream: Upstream, status: int, body: bytes
) -> None:
    upstream.status, upstream.body = status, body

    with pytest.raises(BridgeUnavailableError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert db.session.execute(select(SignInThrottle)).first() is None


def test_a_slow_upstream_times_out_as_unavailable(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    upstream.is_hanging = True

    with pytest.raises(BridgeUnavailableError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert len(upstream.requests) == 1


def test_a_redirect_is_not_followed(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    upstream.status, upstream.body = 307, b""

    with pytest.raises(BridgeUnavailableError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert len(upstream.requests) == 1


def test_a_second_sign_in_keeps_one_record_and_follows_the_districts_person(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)
    other = make_person("guardian", sis_person_id="G-3002")
    db.session.commit()
    upstream.accounts["chenfamily7"] = (IC_PASSWORD, "G-3002")

    with pytest.raises(UpgradeRequiredError):
        services.sign_in.sign_in("chenfamily7", IC_PASSWORD)

    rows = db.session.execute(select(LegacyCredential)).scalars().all()
    assert [(row.ic_username, row.person_id) for row in rows] == [("ChenFamily7", other.id)]


def test_a_person_id_the_roster_does_not_know_cannot_be_upgraded(
    services: Services, guardian: Person, upstream: Upstream
) -> None:
    upstream.accounts["chenfamily7"] = (IC_PASSWORD, "G-404")

    with pytest.raises(BridgePersonUnknownError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)


def test_nothing_logged_carries_the_password(
    services: Services, guardian: Person, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.status = 500
    with caplog.at_level(logging.DEBUG), pytest.raises(BridgeUnavailableError):
        services.sign_in.sign_in("ChenFamily7", IC_PASSWORD)

    assert "bridge:http:unavailable reason=status_500" in caplog.messages
    assert IC_PASSWORD not in caplog.text


def test_http_user_completes_the_upgrade_and_then_signs_in_with_the_portal_hash(
    app: Flask, client: FlaskClient, services: Services, guardian: Person, upstream: Upstream
) -> None:
    sign_in(client, "ChenFamily7")
    post_form(client, "/upgrade", {"email": "wei@example.org", "locale": "en"})
    client.get(verify_link(services, "wei@example.org"))
    upstream.status = 500  # IC itself is no longer asked

    again = sign_in(app.test_client(), "ChenFamily7")

    assert again.headers["Location"] == "/"
    assert len(upstream.requests) == 1
