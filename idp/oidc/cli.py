"""`idp clients` and `idp signing-keys`: relying-party registrations, ID token signing keys.

The OIDC provider's two command groups, registered on the `idp` group by idp/cli.py. Like every
capability's cli.py they are an edge (tests/unit/test_layering.py): they may import Flask and
click. Their subcommands run in the app context (`idp.cli_support.CommandGroup`), each command one
unit of work.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import click
from flask import current_app
from sqlalchemy.orm import Session

from idp.cli_support import CommandGroup, when
from idp.extensions import db
from idp.oidc.keys import SigningKeyService, build_signing_keys, key_state


@click.group(cls=CommandGroup)
def clients() -> None:
    """Relying-party registrations (clients/*.toml)."""


@clients.command("sync")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of client files (default: IDP_CLIENTS_DIR, else clients/).",
)
def clients_sync(directory: str | None) -> None:
    """Validate every client file, then add, update and disable clients to match (all or none)."""
    import os

    from idp.oidc.errors import ClientConfigError

    extensions = current_app.extensions
    registry = _client_registry()
    folder = Path(directory or extensions["idp.settings"].clients_dir)
    try:
        report = registry.sync(folder, os.environ)
    except ClientConfigError as error:
        # Nothing was changed; one `file: key: reason` line per problem.
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(report.as_text())


def _client_registry() -> Any:
    from idp.oidc.clients import ClientRegistry

    extensions = current_app.extensions
    return ClientRegistry(
        cast(Session, db.session),
        extensions["idp.clock"],
        frozenset(extensions["idp.policies"].claims.scopes),
        extensions["idp.settings"].env,
    )


@clients.command("list")
def clients_list() -> None:
    """Print every registered client: id, name, kind, party, state, redirect URIs."""
    registry = _client_registry()
    for client in registry.list_clients():
        kind = "public" if client.is_public else "confidential"
        party = "first-party" if client.is_first_party else "third-party"
        state = "enabled" if client.is_enabled else "disabled"
        uris = " ".join(client.redirect_uris) or "-"
        click.echo(f"{client.client_id}\t{client.name}\t{kind}\t{party}\t{state}\t{uris}")


@click.group("signing-keys", cls=CommandGroup)
def signing_keys() -> None:
    """ID token signing keys (RS256, ES256)."""


def _signing_key_service() -> SigningKeyService:
    extensions = current_app.extensions
    return build_signing_keys(
        cast(Session, db.session),
        extensions["idp.clock"],
        extensions["idp.policies"],
        extensions["idp.settings"],
    )


@signing_keys.command("list")
def signing_keys_list() -> None:
    """Show every key: kid, alg, state, created, retired, unpublished-after."""
    service = _signing_key_service()
    now = current_app.extensions["idp.clock"].now()
    row = "{:<24} {:<6} {:<11} {:<25} {:<25} {}"
    click.echo(row.format("kid", "alg", "state", "created", "retired", "unpublished-after"))
    for key in service.list_keys():
        click.echo(
            row.format(
                key.kid,
                key.alg,
                key_state(key, now),
                when(key.created_at),
                when(key.retired_at),
                when(key.unpublish_after),
            )
        )


@signing_keys.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256"]), default="RS256", show_default=True)
def signing_keys_rotate(alg: str) -> None:
    """Publish a new key for ALG; print its kid and when it starts signing (about a minute
    later, once every worker's JWKS has it). The old key signs until then, then stays
    published while the tokens it signed can still be verified."""
    key = _signing_key_service().rotate(alg)
    click.echo(f"{key.kid} (signs from {when(key.activated_at)})")
