"""Error pages: domain errors in the user's language; anything else a generic 500."""

from __future__ import annotations

import logging
import traceback

from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from idp.errors import DomainError
from idp.extensions import db
from idp.web.input_guard import UnreadableInputError

log = logging.getLogger("idp.web")

_HTTP_MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist. Check the address, or go to the start page."),
    405: _l("This page cannot be used that way. Please go back and try again."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Please wait a few minutes and try again."),
}
_GENERIC = _l("Something went wrong on our side. Please try again in a few minutes.")
_CSRF = _l("This form expired or was sent from another page. Please go back and try again.")
_UNREADABLE = _l(
    "What you sent contains characters we cannot read. Please go back and type it again."
)
# OAuth 2 error descriptions are for developers and never translated (STYLE.md 4).
_UNREADABLE_DESCRIPTION = (
    "The request contains a control character (such as NUL) or bytes that are not UTF-8."
)
# The blueprint whose endpoints answer in JSON (token, userinfo, revocation, introspection...).
_JSON_BLUEPRINT = "oidc_endpoints"


def _page(message: object, status: int) -> tuple[str, int]:
    return render_template("errors/error.html", message=message, status=status), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers; no stack trace ever reaches a user."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int]:
        db.session.rollback()
        return _page(error.render(), error.status)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return _page(_CSRF, 400)

    @app.errorhandler(UnreadableInputError)
    def unreadable_input(
        error: UnreadableInputError,
    ) -> tuple[str, int] | tuple[dict[str, str], int, dict[str, str]]:
        if request.blueprint == _JSON_BLUEPRINT:
            body = {"error": "invalid_request", "error_description": _UNREADABLE_DESCRIPTION}
            return body, 400, {"Cache-Control": "no-store", "Pragma": "no-cache"}
        # The language links must not carry the unreadable query along.
        g.language_base = request.script_root + (request.path if error.where != "path" else "/")
        return _page(_UNREADABLE, 400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        return _page(_HTTP_MESSAGES.get(status, _GENERIC), status)

    @app.errorhandler(InsecureTransportError)
    def insecure_transport(error: InsecureTransportError) -> tuple[dict[str, str], int]:
        # Plain http on a public host: a TLS proxy in front without IDP_PROXY_HOPS, usually.
        log.warning("oidc:request:insecure_transport request_id=%s", g.get("request_id"))
        return {
            "error": "insecure_transport",
            "error_description": "OAuth 2 requires https. Behind a TLS proxy, set IDP_PROXY_HOPS.",
        }, 400

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        if isinstance(error, DBAPIError):
            _log_database_error(error)
        else:
            log.exception("web:request:failed request_id=%s", g.get("request_id"))
        return _page(_GENERIC, 500)


def _log_database_error(error: DBAPIError) -> None:
    """The statement, the driver's error class and SQLSTATE, and where it was raised; not the
    driver's message. The engine hides the parameters (hide_parameters), but PostgreSQL's own
    message quotes values anyway ("Key (...)=(...) already exists", "Failing row contains")."""
    log.error(
        "web:request:failed request_id=%s database_error=%s sqlstate=%s\n%s\nTraceback:\n%s",
        g.get("request_id"),
        type(error.orig).__name__,
        getattr(error.orig, "sqlstate", None),
        error.statement,
        "".join(traceback.format_tb(error.__traceback__)),
    )
