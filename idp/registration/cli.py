"""`idp activation issue`: the activation key ("GUID") for a guardian, and the letter to print.

The registration's command group (activation keys are the registration's, DESIGN.md 2), registered
on the `idp` group by idp/cli.py. Like every capability's cli.py it is an edge
(tests/unit/test_layering.py): it may import Flask and click. Its subcommand runs in the app
context (`idp.cli_support.CommandGroup`), each command one unit of work.
"""

from __future__ import annotations

import click
from flask import current_app

from idp.accounts.models import LOCALES
from idp.cli_support import CommandGroup, fail
from idp.registration.models import ID_TYPES


@click.group(cls=CommandGroup)
def activation() -> None:
    """Activation keys (the "GUID" school staff give a guardian after a photo-ID check)."""


@activation.command("issue")
@click.option("--person-id", required=True, help="The guardian's SIS Person ID.")
@click.option("--staff", "staff_username", required=True, help="Username of the issuing staff.")
@click.option("--id-type", required=True, type=click.Choice(ID_TYPES), help="Photo ID seen.")
@click.option("--lang", default="en", type=click.Choice(LOCALES), show_default=True)
def activation_issue(person_id: str, staff_username: str, id_type: str, lang: str) -> None:
    """Issue a key (revoking any earlier one) and print the letter for the guardian.

    The key is shown only here: it is stored as a digest and cannot be printed again."""
    from flask import render_template
    from flask_babel import force_locale

    from idp.errors import DomainError

    services = current_app.extensions["idp.services"]
    try:
        issued = services.staff.issue_activation_key(person_id, staff_username, id_type)
    except DomainError as error:
        fail(error)
    person = issued.person
    with force_locale(lang):
        letter = render_template(
            "staff/activation_letter.txt",
            name=f"{person.given_name} {person.family_name}",
            person_id=person.sis_person_id,
            key=issued.key,
            expires_on=issued.expires_at.date().isoformat(),
            register_url=current_app.extensions["idp.settings"].issuer.rstrip("/") + "/register",
        )
    click.echo(letter)
