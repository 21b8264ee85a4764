"""The staff console's actions (issue 16.5): each a page that says what will happen, a form
with CSRF, a confirmation box and a reason where it matters, then the same StaffService use case
the command line runs (which authorizes the role and school again and writes one audit event).

A person outside the staff member's scope is a 404 here as on every desk page. An action the
person's state does not allow (re-enable an active account...) is still refused by the service
with its own message; the person page only offers the ones that apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from idp.accounts.models import AccountKind
from idp.accounts.rules import AccountState, can_receive_tokens
from idp.errors import DomainError
from idp.policy.accounts import DISTRICT_PASSWORD
from idp.staff.records import AccountSummary, PersonPage
from idp.web.deps import services
from idp.web.staff_console import scope, staff_only
from idp.web.staff_forms import (
    ConfirmForm,
    IdentityCheckForm,
    OptionalReasonForm,
    ReasonForm,
    RestrictionForm,
    StudentPasswordForm,
)

Run = Callable[[AccountSummary, str, FlaskForm], object]

bp = Blueprint("staff_actions", __name__, url_prefix="/staff")
bp.before_request(staff_only)  # the desk's pages: staff with a role only


@dataclass(frozen=True)
class ActionText:
    """What an action's page says: its title (also its button), what it does, and the notice
    once done. The actions on a key or a relationship are only this: their routes run them."""

    title: LazyString
    explanation: LazyString
    done: LazyString
    is_danger: bool = False


@dataclass(frozen=True)
class DeskAction:
    """One action on an account, as the person page offers it."""

    slug: str  # its address: /staff/accounts/<id>/<slug>
    policy_action: str  # its line in staff.toml [actions]
    title: LazyString
    explanation: LazyString
    done: LazyString
    form: type[FlaskForm]
    run: Run
    applies: Callable[[AccountSummary], bool]
    is_danger: bool = False


def _reason(form: FlaskForm) -> str:
    return str(getattr(form, "reason").data or "")  # noqa: B009 - the forms that have one


def _is_active(account: AccountSummary) -> bool:
    return can_receive_tokens(account.state)


ACCOUNT_ACTIONS: tuple[DeskAction, ...] = (
    DeskAction(
        "re-enable",
        "re_enable_account",
        _l("Enable the account again"),
        _l(
            "The account was disabled after months without use. Enable it again only after"
            " checking the person's photo ID. A new period of use starts today."
        ),
        _l("The account is enabled again."),
        IdentityCheckForm,
        lambda account, staff, form: services().staff.re_enable_account(
            account.id, staff, _reason(form)
        ),
        lambda account: account.state == AccountState.DISABLED,
    ),
    DeskAction(
        "clear-lock",
        "clear_sign_in_lock",
        _l("Unlock sign-in"),
        _l(
            "Sign-in is locked after too many wrong passwords. Unlock it now instead of"
            " waiting for the lock to run out."
        ),
        _l("Sign-in is unlocked."),
        OptionalReasonForm,
        lambda account, staff, form: services().staff.clear_sign_in_lock(
            account.id, staff, _reason(form) or None
        ),
        lambda account: account.lock_until is not None,
    ),
    DeskAction(
        "resend-verification",
        "resend_verification",
        _l("Send the confirmation email again"),
        _l("The registration waits for its email confirmation. A new link is emailed."),
        _l("The confirmation email is on its way."),
        ConfirmForm,
        lambda account, staff, form: services().staff.resend_verification(account.id, staff),
        lambda account: account.pending is not None,
    ),
    DeskAction(
        "resend-account-ready",
        "resend_account_ready",
        _l('Send "your account is ready" again'),
        _l("The email that says the account is ready to use is sent again."),
        _l("The email is on its way."),
        ConfirmForm,
        lambda account, staff, form: services().staff.resend_account_ready(account.id, staff),
        lambda account: (
            _is_active(account) and account.kind == AccountKind.GUARDIAN and bool(account.email)
        ),
    ),
    DeskAction(
        "username-reminder",
        "send_username_reminder",
        _l("Email the username"),
        _l('The username is emailed to the account\'s address, as "Forgot username" does.'),
        _l("The username reminder is on its way."),
        ConfirmForm,
        lambda account, staff, form: services().staff.send_username_reminder(account.id, staff),
        lambda account: _is_active(account) and bool(account.email) and bool(account.username),
    ),
    DeskAction(
        "reset-questions",
        "reset_security_questions",
        _l("Reset the security questions"),
        _l(
            "The guardian's security answers are removed, after checking their photo ID in"
            " person. They choose new questions at their next sign-in."
        ),
        _l("The security questions are reset."),
        IdentityCheckForm,
        lambda account, staff, form: services().staff.reset_security_questions(
            account.id, staff, _reason(form)
        ),
        lambda account: account.kind == AccountKind.GUARDIAN and account.has_security_questions,
    ),
    DeskAction(
        "student-password",
        "set_student_password",
        _l("Set the student's password"),
        _l("The student signs in with this password from now on; their sessions end."),
        _l("The student's password is set."),
        StudentPasswordForm,
        lambda account, staff, form: services().staff.set_student_password(
            account.id,
            staff,
            str(getattr(form, "password").data),  # noqa: B009
        ),
        lambda account: (
            account.kind == AccountKind.STUDENT
            and _is_active(account)
            and services().policies.accounts.students.login == DISTRICT_PASSWORD
        ),
    ),
    DeskAction(
        "sign-out-everywhere",
        "sign_out_everywhere",
        _l("Sign out everywhere"),
        _l(
            "Every sign-in of this account ends, on every device, and every app it uses is"
            " told. Use it after a lost phone or a shared computer."
        ),
        _l("The account is signed out everywhere."),
        OptionalReasonForm,
        lambda account, staff, form: services().staff.sign_out_everywhere(
            account.id, staff, _reason(form) or None
        ),
        _is_active,
    ),
    DeskAction(
        "reset-second-factor",
        "reset_second_factor",
        _l("Reset the authenticator app"),
        _l(
            "The staff member's authenticator app and recovery codes are removed. They set up a"
            " new app at their next sign-in."
        ),
        _l("The authenticator app is reset."),
        IdentityCheckForm,
        lambda account, staff, form: services().staff.reset_second_factor(
            account.id, staff, _reason(form)
        ),
        lambda account: account.kind == AccountKind.STAFF,
    ),
    DeskAction(
        "cancel",
        "cancel_account",
        _l("Cancel the account"),
        _l(
            "The account ends at once: every sign-in and app access stops, and the guardian is"
            " emailed. The email address may then register again (this is how a guardian's"
            " email is changed)."
        ),
        _l("The account is cancelled."),
        ReasonForm,
        lambda account, staff, form: services().staff.cancel_account(
            account.username or "", staff, _reason(form)
        ),
        lambda account: (
            account.kind == AccountKind.GUARDIAN
            and bool(account.username)
            and account.state not in (AccountState.CANCELLED, AccountState.DELETED)
        ),
        is_danger=True,
    ),
)
_BY_SLUG = {action.slug: action for action in ACCOUNT_ACTIONS}


def available_actions(page: PersonPage) -> list[DeskAction]:
    """The account actions that apply to the page's account and that one of the staff
    member's roles may do (the use case checks the role at the person's school again)."""
    if page.account is None:
        return []
    held = scope().roles
    policy = services().policies.staff
    return [
        action
        for action in ACCOUNT_ACTIONS
        if action.applies(page.account) and held & set(policy.roles_for(action.policy_action))
    ]


@bp.route("/accounts/<int:account_id>/<slug>", methods=["GET", "POST"])
def account_action(account_id: int, slug: str) -> Response | str | tuple[str, int]:
    """An action's page: what it does, its form; on POST, the use case."""
    action = _BY_SLUG.get(slug)
    if action is None:
        abort(404)
    page = services().desk.person_page(scope(), account_id=account_id)
    if page is None or page.account is None or page.account.id != account_id:
        abort(404)
    form = action.form()
    if request.method == "GET":
        return _action_page(action, page, form)
    if not form.validate_on_submit():
        return _action_page(action, page, form), 400
    try:
        action.run(page.account, scope().username, form)
    except DomainError as error:
        return _action_page(action, page, form, error), error.status
    flash(str(action.done), "done")
    return redirect(url_for("staff_people.account", account_id=account_id), code=303)


def _action_page(
    action: DeskAction | ActionText,
    page: PersonPage,
    form: FlaskForm,
    error: DomainError | None = None,
) -> str:
    return render_template("staff/action.html", action=action, page=page, form=form, error=error)


@bp.route("/people/<int:person_id>/revoke-key", methods=["GET", "POST"])
def revoke_key(person_id: int) -> Response | str | tuple[str, int]:
    """Revoke the guardian's activation key that could still register (a lost letter)."""
    page = services().desk.person_page(scope(), person_id=person_id)
    if page is None or page.person is None:
        abort(404)
    form = OptionalReasonForm()
    action = _REVOKE_KEY
    if request.method == "GET":
        return _action_page(action, page, form)
    if not form.validate_on_submit():
        return _action_page(action, page, form), 400
    try:
        services().staff.revoke_activation_key(
            page.person.sis_person_id, scope().username, _reason(form) or None
        )
    except DomainError as error:
        return _action_page(action, page, form, error), error.status
    flash(str(action.done), "done")
    return redirect(url_for("staff_people.person", person_id=person_id), code=303)


_REVOKE_KEY = ActionText(
    _l("Revoke the activation key"),
    _l("The key on the guardian's letter stops working. Issue a new one after a photo-ID check."),
    _l("The activation key is revoked."),
)


@bp.route(
    "/people/<int:person_id>/relationships/<int:relationship_id>/<any(restrict, lift):change>",
    methods=["GET", "POST"],
)
def relationship(
    person_id: int, relationship_id: int, change: str
) -> Response | str | tuple[str, int]:
    """Restrict a guardian's rights to one student (a court order), or lift the restriction."""
    page = services().desk.person_page(scope(), person_id=person_id)
    if page is None or page.person is None:
        abort(404)
    line = next((r for r in page.relationships if r.relationship_id == relationship_id), None)
    if line is None:
        abort(404)
    is_student_page = page.person.role == "student"
    guardian = line.person if is_student_page else page.person
    student = page.person if is_student_page else line.person
    action = _RESTRICT if change == "restrict" else _LIFT
    form = RestrictionForm()
    if request.method == "GET":
        return _relationship_page(action, page, form, guardian, student)
    if not form.validate_on_submit():
        return _relationship_page(action, page, form, guardian, student), 400
    use_case = (
        services().staff.restrict_guardian
        if change == "restrict"
        else services().staff.lift_restriction
    )
    try:
        use_case(guardian.sis_person_id, student.sis_person_id, scope().username, _reason(form))
    except DomainError as error:
        page_html = _relationship_page(action, page, form, guardian, student, error)
        return page_html, error.status
    flash(str(action.done), "done")
    return redirect(url_for("staff_people.person", person_id=person_id), code=303)


def _relationship_page(
    action: ActionText,
    page: PersonPage,
    form: FlaskForm,
    guardian: object,
    student: object,
    error: DomainError | None = None,
) -> str:
    return render_template(
        "staff/action.html",
        action=action,
        page=page,
        form=form,
        error=error,
        guardian=guardian,
        student=student,
    )


_RESTRICT = ActionText(
    _l("Restrict this guardian's access to this student"),
    _l(
        "At once, the guardian no longer sees this student in any app: their sign-ins and app"
        " tokens end. Give the reference of the legal document (court order)."
    ),
    _l("The guardian's access to the student is restricted."),
    is_danger=True,
)
_LIFT = ActionText(
    _l("Lift the restriction"),
    _l(
        "The guardian sees this student again from their next sign-in. Give the reference of"
        " the legal document that lifts the restriction."
    ),
    _l("The restriction is lifted."),
)
