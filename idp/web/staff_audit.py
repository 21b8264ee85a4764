"""The staff console's audit trail (issue 16.6): the events of the staff member's schools,
filtered, a page at a time, and as a CSV file: routes of the desk's blueprint."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, render_template, request

from idp.staff.audit_trail import TrailFilter, TrailLine
from idp.staff.scope import StaffScope
from idp.web.deps import clock, services
from idp.web.staff_console import page_number, staff_account, staff_only
from idp.web.staff_forms import TrailFilterForm

bp = Blueprint("staff_audit", __name__, url_prefix="/staff")
bp.before_request(staff_only)  # the desk's pages: staff with a role only


@bp.route("/audit")
def audit() -> str | tuple[str, int]:
    """The audit trail of the staff member's schools (staff.toml view_audit), newest first."""
    trail_scope = _scope_for("view_audit")
    form = TrailFilterForm(request.args)
    if not form.validate():
        page = render_template("staff/audit.html", form=form, trail=None, export_query="")
        return page, 400
    where = _trail_filter(form)
    trail = services().desk.trail(trail_scope, where, page_number())
    can_export = services().desk.scope_of(staff_account(), "export_audit") is not None
    export_query = request.query_string.decode("ascii", "replace") if can_export else None
    return render_template("staff/audit.html", form=form, trail=trail, export_query=export_query)


@bp.route("/audit.csv")
def audit_export() -> Response:
    """The same events as a CSV file (staff.toml export_audit)."""
    trail_scope = _scope_for("export_audit")
    form = TrailFilterForm(request.args)
    if not form.validate():
        abort(400)
    lines = services().desk.trail_export(trail_scope, _trail_filter(form))
    name = f"audit-{clock().now().date().isoformat()}.csv"
    # Built within the request's transaction (at most EXPORT_MAX_ROWS rows), not streamed
    # after it: the unit of work ends with the response (web/transaction.py).
    response = Response("".join(_csv(lines)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _scope_for(action: str) -> StaffScope:
    """The schools where the staff member's role allows `action`; a 404 where it allows none
    (the page does not exist for them)."""
    found = services().desk.scope_of(staff_account(), action)
    if found is None:
        abort(404)
    return found


def _trail_filter(form: TrailFilterForm) -> TrailFilter:
    return TrailFilter(
        account_id=form.account_id.data,
        event=form.event.data or None,
        since=form.since.data,
        until=form.until.data,
    )


_CSV_HEADER = ("occurred_at", "event", "actor", "subject", "subject_account_id", "reason", "data")


def _csv(lines: Iterable[TrailLine]) -> Iterator[str]:
    """CSV text, a row at a time. A cell a spreadsheet would run as a formula (= + - @ and
    control characters first) is prefixed with a quote (OWASP CSV injection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_HEADER)
    for line in lines:
        writer.writerow(
            _cell(value)
            for value in (
                line.occurred_at.isoformat(),
                line.event,
                line.actor_username or "",
                line.subject_username or "",
                "" if line.subject_account_id is None else str(line.subject_account_id),
                line.reason or "",
                json.dumps(line.data, ensure_ascii=False, sort_keys=True),
            )
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
