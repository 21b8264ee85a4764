"""The base of every domain error: a stable code plus a translatable message."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import LazyString, lazy_gettext


class DomainError(Exception):
    """An expected failure a user can act on; rendered in the user's language."""

    code: ClassVar[str] = "domain_error"
    message: ClassVar[LazyString | str] = lazy_gettext("Something went wrong. Please try again.")
    status: ClassVar[int] = 400
    # True for a refusal the use case recorded before raising it (a failed sign-in counted, a
    # refusal audited): the edge commits that record (idp/unit_of_work.py). Otherwise the edge
    # rolls back, so bad input changes nothing.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code)
        self.params = params

    def render(self) -> str:
        """The message in the current locale, with its named parameters filled in."""
        return str(self.message) % self.params if self.params else str(self.message)

    def __str__(self) -> str:
        # Logs record the code only, never the message text or its parameters.
        return self.code
