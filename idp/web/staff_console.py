"""The school's desk (issue 16): the staff console's pages, under /staff.

Only a signed-in staff account with a role reaches them (both factors passed:
web/staff_session.py). Everything shown is within the staff member's scope
(idp/staff/scope.py): another school's person is a 404, never a 403. Every action is a POST
with CSRF and a confirmation, runs the same StaffService use case the command line runs
(which authorizes the role again) and writes one audit event.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.accounts.models import AccountKind
from idp.staff.scope import StaffScope
from idp.web.deps import current_account, services

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


@bp.route("/")
def index() -> str:
    """The desk's start page: find a person, and the schools' figures."""
    return render_template("staff/index.html", scope=scope())
