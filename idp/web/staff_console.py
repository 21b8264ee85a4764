"""The school's desk (issue 16): the staff console's pages, under /staff.

Only a signed-in staff account with a role reaches them (both factors passed:
web/staff_session.py). Everything shown is within the staff member's scope
(idp/staff/scope.py): another school's person is a 404, never a 403. Every action is a POST
with CSRF and a confirmation, runs the same StaffService use case the command line runs
(which authorizes the role again) and writes one audit event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.models import Account, AccountKind
from idp.staff.scope import StaffScope
from idp.web.deps import current_account, services
from idp.web.staff_forms import SearchForm

bp = Blueprint("staff_console", __name__, url_prefix="/staff")


@bp.before_request
def staff_only() -> Response | None:
    """Signed out: to the sign-in, then back here. Signed in but not staff (or staff without
    any role): a 404, so the desk's pages do not tell a family they exist."""
    account = current_account()
    if account is None:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("login.sign_in", next=target or url_for("staff_console.index")))
    if account.kind != AccountKind.STAFF:
        abort(404)
    scope = services().desk.scope_of(account)
    if scope is None:
        abort(404)
    g.staff_scope = scope
    return None


def scope() -> StaffScope:
    """The signed-in staff member's scope (set by staff_only)."""
    found = g.get("staff_scope")
    assert isinstance(found, StaffScope)  # noqa: S101 - staff_only ran before any view
    return found


def staff_account() -> Account:
    """The signed-in staff account (checked by staff_only)."""
    account = current_account()
    assert account is not None  # noqa: S101 - staff_only ran before any view
    return account


def page_number() -> int:
    """The `page` of a paged list (from 1)."""
    return max(1, min(request.args.get("page", default=1, type=int) or 1, 10_000))


@bp.app_template_global()
def pager_url(page: int) -> str:
    """This page's address with another `page`, its other query values kept."""
    values: dict[str, Any] = {**request.args.to_dict(), **(request.view_args or {})}
    values["page"] = page
    return url_for(str(request.endpoint), **values)


@bp.route("/")
def index() -> str:
    """The desk's start page: find a person, and the figures of the staff member's schools."""
    return render_template(
        "staff/index.html",
        scope=scope(),
        form=SearchForm(request.args),
        schools=services().desk.dashboard(scope()),
    )


@bp.route("/search")
def search() -> str | tuple[str, int]:
    """Find a guardian, student or staff member of the staff member's schools."""
    form = SearchForm(request.args)
    if not form.validate() or not (form.q.data or "").strip():
        return render_template("staff/search.html", form=form, results=None), (
            400 if form.errors else 200
        )
    results = services().desk.search(scope(), form.q.data, page_number())
    return render_template("staff/search.html", form=form, results=results)


_KIND_LABELS = {
    "guardian": _l("Guardian"),
    "student": _l("Student"),
    "staff": _l("Staff"),
}
_STATE_LABELS = {
    "pending_email": _l("Waiting for email confirmation"),
    "provisioning": _l("Being created"),
    "active": _l("Active"),
    "disabled": _l("Disabled (unused for months)"),
    "deleted": _l("Deleted"),
    "cancelled": _l("Cancelled by the school"),
    "removed": _l("Removed"),
}
_ROLE_LABELS = {
    "secretary": _l("Secretary"),
    "enrollment_specialist": _l("Enrollment specialist"),
    "school_admin": _l("School administrator"),
    "district_admin": _l("District administrator"),
}


@bp.app_template_global()
def staff_may(action: str) -> bool:
    """Whether one of the signed-in staff member's roles may do `action` somewhere (the
    desk's links; each page and use case checks again)."""
    found = g.get("staff_scope")
    if not isinstance(found, StaffScope):
        return False
    return bool(found.roles & set(services().policies.staff.roles_for(action)))


@bp.app_template_global()
def kind_label(kind: str) -> str:
    """Guardian, student or staff, in the page's language."""
    return str(_KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def state_label(state: str) -> str:
    """An account state (DESIGN.md 4) in the page's language."""
    return str(_STATE_LABELS.get(state, state))


@bp.app_template_global()
def role_label(role: str) -> str:
    """A staff role in the page's language."""
    return str(_ROLE_LABELS.get(role, role))


@bp.app_template_filter()
def format_day(day: date | datetime | None) -> str:
    """A date in the page's language ("7 Dec 2026"); empty for none."""
    if day is None:
        return ""
    return str(format_date(day.date() if isinstance(day, datetime) else day, "medium"))


@bp.app_template_filter()
def format_moment(moment: datetime | None) -> str:
    """A moment in the page's language, with its time (UTC, as the server keeps it)."""
    return "" if moment is None else str(format_datetime(moment, "medium"))
