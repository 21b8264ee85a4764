"""Error pages: domain errors in the user's language; anything else a generic 500."""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from idp.errors import DomainError
from idp.extensions import db

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
        log.exception("web:request:failed request_id=%s", g.get("request_id"))
        return _page(_GENERIC, 500)
