"""RouteLimiter: limits on routes only, and a configuration it would not honour is refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from idp.extensions import RouteLimiter


def _app(**config: str) -> Flask:
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_HEADERS_ENABLED=True, **config)
    return app


def test_a_route_limit_is_enforced_with_its_headers() -> None:
    app = _app()
    limiter = RouteLimiter()
    limiter.init_app(app)

    @app.post("/limited")
    @limiter.limit("2/minute")
    def limited() -> str:
        return "ok"

    @app.get("/open")
    def open_page() -> str:
        return "ok"

    client = app.test_client()
    statuses = [client.post("/limited").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post("/limited").headers["X-RateLimit-Limit"] == "2"
    assert [client.get("/open").status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_default_or_application_limits_are_refused(setting: str) -> None:
    with pytest.raises(RuntimeError, match="route limits only"):
        RouteLimiter().init_app(_app(**{setting: "1/minute"}))


def test_the_override_skips_the_library_check_before_each_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RouteLimiter overrides a private Flask-Limiter method (STYLE.md 1: pin the major version
    and keep a test that fails when the override stops taking effect). The library resolves a
    request's limits once per check: with the override, only the decorator's own check on the
    limited route does; without it (a renamed method, a new hook), the before-request check
    resolves them for both requests too, and this fails."""
    app = _app()
    limiter = RouteLimiter()
    limiter.init_app(app)

    @app.post("/limited")
    @limiter.limit("2/minute")
    def limited() -> str:
        return "ok"

    @app.get("/open")
    def open_page() -> str:
        return "ok"

    resolve_limits = limiter.limit_manager.resolve_limits
    resolved: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        # Called as (app, endpoint, blueprint, callable name, in_middleware, ...).
        resolved.append(str(kwargs.get("endpoint", args[1] if len(args) > 1 else "?")))
        return resolve_limits(*args, **kwargs)

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", counting)
    client = app.test_client()
    client.get("/open")
    client.post("/limited")

    assert resolved == ["limited"]
