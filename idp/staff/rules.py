"""Pure rules of the staff desk."""

from __future__ import annotations


def cleaned_reason(reason: str, max_length: int) -> str | None:
    """Staff's reason on one line (each run of whitespace made one space), or None when it is
    empty or longer than `max_length` characters."""
    cleaned = " ".join(reason.split())
    if not cleaned or len(cleaned) > max_length:
        return None
    return cleaned
