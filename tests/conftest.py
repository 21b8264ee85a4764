"""Test wiring: a throwaway database per run (SQLite or PostgreSQL), a frozen clock, the app.

`pytest --db sqlite` (default) migrates a template SQLite file once and gives each test a
copy. `pytest --db postgresql` creates a database `idp_test_<random>` on the local server,
migrates it once, truncates every table after each test and drops the database at the end.
Without a reachable PostgreSQL the run is skipped locally and fails when CI=true.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import flask_migrate
import psycopg
import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import text

from idp import create_app
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT, Settings
from idp.extensions import db
from idp.services import Services
from idp.unit_of_work import UnitOfWork
from tests.smtp import SmtpSink

PG_ADMIN_DSN = os.environ.get(
    "IDP_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("IDP_TEST_DB", "sqlite"),
        help="database the integration tests run on",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests (real races) are deselected, not skipped, on SQLite."""
    if config.getoption("--db") == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgresql_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def base_settings(database_url: str, instance_path: Path) -> Settings:
    """Settings of the test environment."""
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        key_encryption_key="x9Qy0U2nJm7zcY3bXb6pG3tqE1C7v8r5H4kLw2sNfZo=",
        issuer="http://localhost",
        instance_path=instance_path,
        policy_dir=PROJECT_ROOT / "policies",
    )


def _migrate(database_url: str, instance_path: Path) -> None:
    app = create_app(base_settings(database_url, instance_path), FrozenClock(START))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def _pg_reachable() -> bool:
    try:
        psycopg.connect(PG_ADMIN_DSN, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def db_kind(pytestconfig: pytest.Config) -> str:
    """'sqlite' or 'postgresql'."""
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def template_database(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this run: a template file (SQLite) or a throwaway database."""
    instance = tmp_path_factory.mktemp("instance")
    if db_kind == "sqlite":
        path = instance / "template.sqlite3"
        _migrate(f"sqlite:///{path}", instance)
        yield str(path)
        return
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.exit("PostgreSQL is not reachable but CI=true: failing the run", returncode=3)
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (PostgreSQL run skipped)")
    name = f"idp_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        _migrate(url, instance)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(db_kind: str, template_database: str, tmp_path: Path) -> str:
    """This test's database: a fresh copy (SQLite) or the run's database, truncated after."""
    if db_kind == "sqlite":
        copy = tmp_path / "test.sqlite3"
        shutil.copyfile(template_database, copy)
        return f"sqlite:///{copy}"
    return template_database


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that moves only when the test says so."""
    return FrozenClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings on this test's database."""
    return base_settings(database_url, tmp_path / "instance")


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, db_kind: str) -> Iterator[Flask]:
    """The application, with an app context pushed, on this test's database."""
    application = create_app(settings, clock)
    with application.app_context():
        yield application
        db.session.remove()
        if db_kind == "postgresql":
            _truncate_all()
        db.engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


class _CommittedCalls:
    """One capability's service with the test as its edge: each method call is one unit of
    work (idp/unit_of_work.py), committed or rolled back as a request or a command would."""

    def __init__(self, service: object, work: UnitOfWork) -> None:
        self._service, self._work = service, work

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._service, name)
        if not callable(value) or isinstance(value, type):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._work():
                return value(*args, **kwargs)

        return call


class _TestEdge:
    def __init__(self, services: Services, work: UnitOfWork) -> None:
        self._services, self._work = services, work

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._services, name)
        return value if name == "policies" else _CommittedCalls(value, self._work)


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's domain services; each method the test calls is committed like a request."""
    return cast(Services, _TestEdge(app.extensions["idp.services"], unit_of_work(app)))


@contextmanager
def committed() -> Iterator[None]:
    """The test as the edge of what it calls directly (a registry, the demo loader): the block
    is one unit of work, committed as a command would (idp/unit_of_work.py)."""
    with unit_of_work(current_app)():
        yield


def unit_of_work(app: Flask) -> UnitOfWork:
    """The app's unit of work: `with unit_of_work(app)(): ...` is one committed transaction."""
    return cast(UnitOfWork, app.extensions["idp.unit_of_work"])


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (own `g`, own database session), as in
    production, even though the test itself holds an app context open."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (CSRF on, as in production)."""
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 (`.port`, `.messages`, `.stop()`, `.start()`)."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
