"""A health check for load balancers: the database answers."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from idp.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 when the database answers a trivial query."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200
