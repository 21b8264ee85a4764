"""Error pages: a short page in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from clients.sample_portal.provider import ProviderUnavailableError, SignInError

NOT_FOUND = 404
SERVER_ERROR = 500


def _messages() -> dict[str, str]:
    return {
        "not_found": gettext("This page does not exist."),
        "bad_request": gettext("This page cannot be shown. Go back to the start page."),
        "sign_in_failed": gettext(
            "Signing in did not finish. Start again from the sign-in button."
        ),
        "provider_unavailable": gettext(
            "The district portal is not answering right now. Try again in a few minutes."
        ),
        "server_error": gettext("Something went wrong on our side. Try again in a few minutes."),
    }


def render_error(code: str) -> str:
    """The error page for one of the codes above."""
    return render_template("errors/error.html", message=_messages()[code])


def _sign_in_failed(error: SignInError) -> tuple[str, int]:
    # The reason (state, iss, access_denied...) is for the log, not for the page.
    current_app.logger.warning("sign-in failed: %s", error)
    return render_error("sign_in_failed"), 400


def _provider_unavailable(error: ProviderUnavailableError) -> tuple[str, int]:
    current_app.logger.warning("provider unavailable: %s", error)
    return render_error("provider_unavailable"), 502


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or SERVER_ERROR
    if code >= SERVER_ERROR:
        return render_error("server_error"), code
    return render_error("not_found" if code == NOT_FOUND else "bad_request"), code


def _unexpected(error: Exception) -> tuple[str, int]:
    current_app.logger.exception("unexpected error")
    return render_error("server_error"), SERVER_ERROR


def register(app: Flask) -> None:
    """Install the error handlers."""
    app.register_error_handler(SignInError, _sign_in_failed)
    app.register_error_handler(ProviderUnavailableError, _provider_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
