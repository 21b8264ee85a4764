"""`idp roster restrict` and `idp roster lift`: a guardian's rights to one student."""

from __future__ import annotations

import click
from flask import current_app

from idp.commands import fail, when
from idp.errors import DomainError

_GUARDIAN = click.option("--guardian", required=True, help="The guardian's SIS Person ID.")
_STUDENT = click.option("--student", required=True, help="The student's SIS Person ID.")
_STAFF = click.option("--staff", "staff_username", required=True, help="Staff username.")
_REASON = click.option("--reason", required=True, help="The legal reason (e.g. court order).")


@click.command("restrict")
@_GUARDIAN
@_STUDENT
@_STAFF
@_REASON
def restrict(guardian: str, student: str, staff_username: str, reason: str) -> None:
    """Take a guardian's access to one student away at once: the guardian's tokens end and
    every app they signed in to is told (back-channel logout). Imports never lift it."""
    restrictions = current_app.extensions["idp.services"].restrictions
    try:
        relationship = restrictions.restrict(guardian, student, staff_username, reason)
    except DomainError as error:
        fail(error)
    click.echo(f"restricted {guardian} -> {student} at {when(relationship.restricted_at)}")


@click.command("lift")
@_GUARDIAN
@_STUDENT
@_STAFF
@_REASON
def lift(guardian: str, student: str, staff_username: str, reason: str) -> None:
    """Give the access back: the student shows again from the guardian's next sign-in."""
    restrictions = current_app.extensions["idp.services"].restrictions
    try:
        restrictions.lift(guardian, student, staff_username, reason)
    except DomainError as error:
        fail(error)
    click.echo(f"lifted {guardian} -> {student}")
