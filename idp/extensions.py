"""Unbound extensions, bound to an app in create_app."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migration names)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()


class RouteLimiter(Limiter):
    """Flask-Limiter with limits on routes only.

    Every limit of this project is a decorator on its view (`@limiter.limit`), and the decorator
    checks it when the view runs. The extension also checks, before every request, the default,
    application and blueprint limits: we have none, yet that check walked the limit manager on
    every page view and token call. It is skipped here. The library has no public switch for it
    (its constructor, `request_filter` and `exempt` all still run that check), so this overrides
    the private method its before-request hook calls: Flask-Limiter is pinned to the tested
    major version (4, pyproject.toml), and tests/unit/test_route_limiter.py fails when the
    override stops taking effect."""

    def __init__(self) -> None:
        super().__init__(key_func=get_remote_address, default_limits=[], application_limits=[])

    def init_app(self, app: Flask) -> None:
        """Bind to the app; refuse default or application limits (configured as RATELIMIT_*
        settings), which this class would never check."""
        super().init_app(app)
        if self.limit_manager.default_limits or self.limit_manager.application_limits:
            raise RuntimeError("RouteLimiter checks route limits only: use @limiter.limit")

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware:
            return  # no default, application or blueprint limits: nothing to check here
        super()._check_request_limit(callable_name, in_middleware)


# Storage comes from IDP_RATELIMIT_STORAGE_URI (Redis in production) in create_app.
limiter = RouteLimiter()


# What Authlib's records may carry that grants access: an issued token's parts, a code.
_SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "code", "client_secret"})


class RedactSecrets(logging.Filter):
    """Authlib logs every token it issues at DEBUG ("Issue token %r to %r", the whole token
    response): an operator who turns DEBUG on would log every access, refresh and ID token.
    This filter puts "[redacted]" in place of their values (a copy: the response is the
    record's argument) and keeps the rest of the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def _redacted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: "[redacted]" if key in _SECRET_KEYS else item for key, item in value.items()}
    return value


def redact_authlib_secrets() -> None:
    """Put RedactSecrets on every Authlib logger (once). A logger's filter sees only records
    logged on that logger itself, not those of its children: hence one per module's logger.
    Called after the OIDC server is built, when the grant modules (which log tokens) are
    imported."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not name.startswith("authlib") or not isinstance(logger, logging.Logger):
            continue
        if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
            logger.addFilter(RedactSecrets())


def without_transaction() -> None:
    """Run this request's statements on an autocommit connection: for handlers that only read,
    or whose only write is one statement (which is atomic on its own).

    Each statement still sees committed data only (PostgreSQL's default, READ COMMITTED, takes
    a snapshot per statement anyway), but the driver sends no BEGIN before the first statement
    and no COMMIT or ROLLBACK when the request ends: two round trips fewer on the userinfo,
    introspection and client_credentials paths. Must run before the request's first
    statement; afterwards it changes nothing.
    """
    session = db.session()  # the request's Session behind the scoped proxy
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
