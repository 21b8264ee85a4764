"""Development only: read the emails sent to the development mailbox (no SMTP host set).

Registered in development only, so `/dev/mailbox` is a 404 in test and production.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template
from werkzeug.wrappers import Response

from idp.config import Settings
from idp.notifications.mail import development_mailbox
from idp.notifications.mailbox_directory import body_text, links_in
from idp.web.deps import settings

bp = Blueprint("dev_mailbox", __name__)
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Language")
# The stored HTML carries inline styles, which the site's CSP forbids: it gets its own,
# sandboxed (no scripts, no same origin), and is opened on its own, never framed.
HTML_PART_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def install(app: Flask, config: Settings) -> None:
    """Register the mailbox pages when running in development; do nothing otherwise."""
    if config.is_development:
        app.register_blueprint(bp)


@bp.route("/dev/mailbox")
def index() -> str:
    """Every stored message, newest first."""
    entries = development_mailbox(settings()).list_messages()
    return render_template("dev_mailbox/index.html", entries=entries)


@bp.route("/dev/mailbox/<name>")
def message(name: str) -> str:
    """One message: its headers, its text part and the links in it."""
    email = development_mailbox(settings()).read(name)
    if email is None:
        abort(404)
    text = body_text(email, "plain") or ""
    return render_template(
        "dev_mailbox/message.html",
        name=name,
        subject=str(email.get("Subject", "")),
        headers=[(header, str(email.get(header, ""))) for header in SHOWN_HEADERS],
        text=text,
        links=links_in(text),
        has_html=body_text(email, "html") is not None,
    )


@bp.route("/dev/mailbox/<name>/html")
def message_html(name: str) -> Response:
    """The HTML part on its own, as a mail program would show it."""
    email = development_mailbox(settings()).read(name)
    html = None if email is None else body_text(email, "html")
    if html is None:
        abort(404)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_CSP
    return response
