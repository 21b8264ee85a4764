"""Alembic environment: runs on the application's own engine (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from flask import current_app


def run_migrations_online() -> None:
    """Run migrations on a connection of the app's engine."""
    db = current_app.extensions["migrate"].db
    config_args = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            **config_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `idp db upgrade`")
run_migrations_online()
