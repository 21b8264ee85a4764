"""A request is one unit of work (idp/unit_of_work.py), committed once, after the browser session.

The views call use cases and never commit. `PortalApp.process_response` finishes the request's
unit of work after the after-request hooks and the session store have run, so the account's
activity, an SSO session, an authorization code and the browser session that carries them are
committed together, before the response leaves; a commit that fails becomes the error page.

A view that catches a DomainError renders the refusal; the use case's writes must not be
committed with the page, unless the refusal keeps what it recorded (a failed sign-in counted).
`UseCases` does that in one place: the views reach the services through it (web/deps.py), and
a use case that raises a DomainError has its writes rolled back before the view sees it.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, Response, current_app

from idp.errors import DomainError
from idp.unit_of_work import UnitOfWork


def unit_of_work() -> UnitOfWork:
    """The unit of work of this request (or command)."""
    return cast(UnitOfWork, current_app.extensions["idp.unit_of_work"])


class PortalApp(Flask):
    """Flask, with the request's one commit after the session store (no Flask hook runs
    there: after_request functions run before the session is saved)."""

    def process_response(self, response: Response) -> Response:
        response = super().process_response(response)
        cast(UnitOfWork, self.extensions["idp.unit_of_work"]).finish()
        return response


class UseCases:
    """A capability's service as the views see it: each method call is a use case of the
    request's unit of work (see the module docstring). Attributes that are not methods are
    returned as they are."""

    __slots__ = ("_service",)

    def __init__(self, service: object) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._service, name)
        if not callable(value) or isinstance(value, type):
            return value

        def use_case(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except DomainError as error:
                unit_of_work().refused(error)
                raise

        return use_case
