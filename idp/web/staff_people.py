"""The staff console's person pages (issue 16.4) and the activation key with its printed
letter (issue 16.5): routes of the desk's blueprint (web/staff_console.py)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale
from markupsafe import Markup
from werkzeug.wrappers import Response

from idp.accounts.models import RELEASED_STATES
from idp.errors import DomainError
from idp.oidc.disclosures import Disclosure
from idp.roster.models import Person
from idp.staff.records import PersonPage
from idp.web.deps import services, settings
from idp.web.i18n import LANGUAGES, RIGHT_TO_LEFT
from idp.web.staff_actions import available_actions
from idp.web.staff_console import scope, staff_only
from idp.web.staff_forms import ActivationKeyForm

bp = Blueprint("staff_people", __name__, url_prefix="/staff")
bp.before_request(staff_only)  # the desk's pages: staff with a role only


@bp.route("/people/<int:person_id>")
def person(person_id: int) -> str:
    """A roster person's page: their account, family, apps, keys and recent events."""
    page = services().desk.person_page(scope(), person_id=person_id)
    if page is None:
        abort(404)
    return _person_page(page)


@bp.route("/accounts/<int:account_id>")
def account(account_id: int) -> Response | str:
    """An account's page: its person's page when it has one (staff accounts have none)."""
    page = services().desk.person_page(scope(), account_id=account_id)
    if page is None:
        abort(404)
    return _person_page(page)


def _person_page(page: PersonPage) -> str:
    return render_template(
        "staff/person.html",
        page=page,
        actions=available_actions(page),
        can_issue_key=_can_issue_key(page),
        disclosures=_disclosures(page),
    )


@bp.route("/people/<int:person_id>/activation-key", methods=["GET", "POST"])
def activation_key(person_id: int) -> str | tuple[str, int]:
    """Issue a guardian's activation key after a photo-ID check, and print the letter (the
    key is shown on it once: only its digest is stored)."""
    person = _visible_person(person_id)
    form = ActivationKeyForm()
    if request.method == "GET":
        form.lang.data = form.lang.data or str(get_locale() or "en")
        return render_template("staff/activation_key.html", form=form, person=person)
    if not form.validate_on_submit():
        return render_template("staff/activation_key.html", form=form, person=person), 400
    try:
        issued = services().staff.issue_activation_key(
            person.sis_person_id, scope().username, form.id_type.data
        )
    except DomainError as error:
        page = render_template("staff/activation_key.html", form=form, person=person, error=error)
        return page, error.status
    lang = form.lang.data if form.lang.data in LANGUAGES else "en"
    with force_locale(lang):
        letter = render_template(
            "staff/_activation_letter.html",
            name=f"{issued.person.given_name} {issued.person.family_name}",
            person_id=issued.person.sis_person_id,
            key=issued.key,
            expires_on=format_date(issued.expires_at.date(), "long"),
            register_url=settings().issuer.rstrip("/") + url_for("register.start"),
        )
    return render_template(
        "staff/letter.html",
        letter=Markup(letter),  # noqa: S704 - rendered from our template, autoescaped
        letter_lang=lang,
        letter_dir="rtl" if lang in RIGHT_TO_LEFT else "ltr",
        person=person,
    )


def _visible_person(person_id: int) -> Person:
    """The roster Person, if the staff member may see it; else a 404 (never a 403)."""
    person = services().desk.person(scope(), person_id)
    if person is None:
        abort(404)
    return person


def _can_issue_key(page: PersonPage) -> bool:
    """A guardian without a live account, and a role that issues keys: the page offers a key
    (the use case checks the rest: eligibility, the school)."""
    if page.person is None or page.person.role == "student":
        return False
    if page.account is not None and page.account.state not in RELEASED_STATES:
        return False
    roles = services().policies.staff.roles_for("issue_activation_key")
    return bool(scope().roles & set(roles))


def _disclosures(page: PersonPage) -> list[Disclosure]:
    """A student's record of disclosures: which apps received data about them, when."""
    if page.person is None or page.person.role != "student":
        return []
    return services().desk.disclosures_about_student(page.person.id)
