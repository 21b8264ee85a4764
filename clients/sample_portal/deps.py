"""What the views of one app share, and how they reach it."""

from __future__ import annotations

from typing import cast

from flask import current_app, g, session

from clients.sample_portal.provider import ProviderClient
from clients.sample_portal.sessions import SessionStore
from clients.sample_portal.settings import PortalSettings

# The browser's cookie holds only this key to the server-side session (sessions.py).
SESSION_KEY = "portal_session"
# Set when the provider ended the session (back-channel logout, revoked tokens): the home page
# says so once.
SIGNED_OUT_NOTICE = "was_signed_out"


class Portal:
    """One app's settings, its client at the provider, and its signed-in sessions."""

    def __init__(self, settings: PortalSettings, provider: ProviderClient) -> None:
        self.settings = settings
        self.provider = provider
        self.sessions = SessionStore()


def portal() -> Portal:
    """The running app's Portal."""
    return cast(Portal, current_app.extensions["sample_portal"])


def end_local_session() -> None:
    """Forget this browser's signed-in session, and tell the user on the next page."""
    portal().sessions.remove(session.pop(SESSION_KEY, None))
    session[SIGNED_OUT_NOTICE] = True
    g.signed_in = None
