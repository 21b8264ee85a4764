"""My Kids: the children a guardian may see, from the provider's `students` claim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Child:
    """One student as the provider describes them."""

    id: str
    given_name: str
    family_name: str
    school_name: str | None
    grade: str | None
    birth_date: date | None

    @property
    def name(self) -> str:
        """Given and family name."""
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class MyKids:
    """What the My Kids tab shows: the children in the provider's order, one selected."""

    children: tuple[Child, ...]
    selected: Child | None
    is_student: bool


def _birth_date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _child(entry: object) -> Child | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
        return None
    return Child(
        id=entry["id"],
        given_name=str(entry.get("given_name") or ""),
        family_name=str(entry.get("family_name") or ""),
        school_name=entry.get("school_name") or entry.get("school_id"),
        grade=entry.get("grade"),
        birth_date=_birth_date(entry.get("birthdate")),
    )


def my_kids(claims: Mapping[str, Any], requested_id: str | None) -> MyKids:
    """The tab's content: a student account sees itself (`student` claim); a guardian sees
    the `students` claim in its order (oldest first), with `requested_id` selected, or the
    oldest when that id is not one of them."""
    own = _child(claims.get("student"))
    if own is not None:
        return MyKids(children=(own,), selected=own, is_student=True)
    entries = claims.get("students")
    found = (_child(entry) for entry in (entries if isinstance(entries, list) else []))
    children = tuple(child for child in found if child is not None)
    selected = next((child for child in children if child.id == requested_id), None)
    return MyKids(
        children=children,
        selected=selected or (children[0] if children else None),
        is_student=False,
    )
