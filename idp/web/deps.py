"""How views reach the services built in create_app."""

from __future__ import annotations

from typing import cast

from flask import current_app, g

from idp.accounts.models import Account
from idp.clock import Clock
from idp.config import Settings
from idp.oidc.logout import LogoutService
from idp.oidc.server import PortalAuthorizationServer
from idp.services import Services
from idp.web.transaction import UseCases


class _ServicesView:
    """Services as the views reach them: each capability's methods are use cases of the
    request's unit of work (idp/web/transaction.py); the policies are plain data."""

    __slots__ = ("_services",)

    def __init__(self, services: Services) -> None:
        self._services = services

    def __getattr__(self, name: str) -> object:
        value = getattr(self._services, name)
        return value if name == "policies" else UseCases(value)


def services() -> Services:
    """The application's services, each method call a use case of this request."""
    return cast(Services, _ServicesView(current_app.extensions["idp.services"]))


def settings() -> Settings:
    """The application's settings."""
    return cast(Settings, current_app.extensions["idp.settings"])


def clock() -> Clock:
    """The application's clock."""
    return cast(Clock, current_app.extensions["idp.clock"])


def oidc() -> PortalAuthorizationServer:
    """The Authlib authorization server."""
    return cast(PortalAuthorizationServer, current_app.extensions["idp.oidc"])


def logout() -> LogoutService:
    """Ends sessions and access, with back-channel logout."""
    return cast(LogoutService, current_app.extensions["idp.logout"])


def current_account() -> Account | None:
    """The signed-in account of this request, if any."""
    return cast(Account | None, g.get("account"))
