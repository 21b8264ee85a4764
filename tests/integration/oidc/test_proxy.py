"""Requests behind a TLS proxy: handled with IDP_PROXY_HOPS, never a 500 without it."""

from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient

from idp import create_app
from idp.clock import FrozenClock
from idp.config import Settings


def test_plain_http_on_a_public_host_is_a_clear_error_not_a_crash(client: FlaskClient) -> None:
    response = client.post(
        "/token", data={"grant_type": "client_credentials"}, base_url="http://id.district.example"
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "insecure_transport"


def test_forwarded_https_is_trusted_with_proxy_hops(settings: Settings, clock: FrozenClock) -> None:
    app = create_app(replace(settings, proxy_hops=1), clock)
    client = app.test_client()

    response = client.post(
        "/token",
        data={"grant_type": "client_credentials"},
        base_url="http://id.district.example",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
