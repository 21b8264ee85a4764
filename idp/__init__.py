"""Portal IdP: the application factory (wiring only)."""

from __future__ import annotations

import logging
from typing import Any, cast

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.clock import Clock, SystemClock
from idp.config import PROJECT_ROOT, Settings, load_settings
from idp.extensions import babel, csrf, db, limiter, migrate, redact_authlib_secrets
from idp.policy import load_policies
from idp.unit_of_work import UnitOfWork

MIGRATIONS_DIR = PROJECT_ROOT / "idp" / "migrations"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys only when asked, per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_a_transaction(connection: Any, name: str) -> None:
    """pysqlite opens a transaction only before a data change, not before SAVEPOINT: a
    savepoint taken first (begin_nested) was then the outermost transaction, and releasing it
    committed at once, so a later rollback lost nothing it should have (a hypothesis property
    found it). Begin the transaction here first. Hand-written: the SQLAlchemy pysqlite recipe
    (emit BEGIN on every "begin") would also put reads in transactions and change locking."""
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.isolation_level is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def _request_id() -> str | None:
    """The current request's id for audit events (None in jobs and the CLI)."""
    return g.get("request_id") if has_request_context() else None


def _flask_config(settings: Settings) -> dict[str, Any]:
    # No pre-ping (a round trip per request, measured by bench/oidc_bench.py): connections are
    # recycled after 30 minutes instead, and a dropped connection fails one request cleanly.
    # hide_parameters: a database error (and the sqlalchemy.engine INFO log, if an operator
    # turns it on) shows the SQL without its parameters, which may be typed names, emails or
    # digests of secrets (issue 14).
    engine_options: dict[str, Any] = {"pool_recycle": 1800, "hide_parameters": True}
    if settings.database_url.startswith("sqlite"):
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    return {
        "SECRET_KEY": settings.secret_key,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SESSION_COOKIE_NAME": "idp_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if settings.issuer.startswith("https") else "http",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": settings.env != "test",
        "TESTING": settings.env == "test",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }


def _wire_oidc(app: Flask, services: Any) -> None:
    """The Authlib server and the discovery document, built once per process from the
    services' OIDC collaborators (idp/services.py)."""
    from idp.oidc.discovery import build_discovery
    from idp.oidc.server import build_server

    deps = services.oidc_deps
    server = build_server(deps)
    redact_authlib_secrets()  # its grants log each issued token at DEBUG
    app.extensions["idp.logout"] = services.logout
    server.scopes_supported = services.claims.supported_scopes()
    app.extensions["idp.oidc"] = server
    app.extensions["idp.discovery"] = build_discovery(
        deps.issuer, services.claims.supported_scopes(), services.claims.supported_claims()
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """Build the Flask application from settings, a clock and the policy files."""
    settings = settings or load_settings()
    clock = clock or SystemClock()
    policies = load_policies(settings.policy_dir)  # a bad policy file stops start-up here

    from idp.web.transaction import PortalApp

    app = PortalApp(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(_flask_config(settings))
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )
    if settings.is_production and settings.ratelimit_storage_uri.startswith("memory"):
        logging.getLogger("idp").warning("config:ratelimit:memory_storage_in_production")

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)

    from idp.services import build_services
    from idp.web import input_guard
    from idp.web.setup import register_web

    app.extensions["idp.settings"] = settings
    app.extensions["idp.clock"] = clock
    app.extensions["idp.policies"] = policies
    # The scoped session proxies a Session per request/thread; services only see Session's API.
    session = cast(Session, db.session)
    services = build_services(session, clock, policies, settings, _request_id)
    app.extensions["idp.services"] = services
    # The one transaction of each request, command and worker job (idp/unit_of_work.py).
    app.extensions["idp.unit_of_work"] = UnitOfWork(db.session)
    _wire_oidc(app, services)
    register_web(app, settings, clock, babel)
    # First of all before_request hooks (CSRF's included): unreadable input never goes further.
    input_guard.install(app)
    return app
