"""Pure activation-key rules: generation, how people may type it, the stored digest."""

from __future__ import annotations

import hashlib
import re
import uuid

_NOT_HEX = re.compile(r"[^0-9a-f]")
KEY_HEX_DIGITS = 32


def new_key() -> str:
    """A fresh key shaped like the GUIDs families already know: a UUID4 (122 random bits)."""
    return str(uuid.uuid4()).upper()


def normalize_key(typed: str) -> str | None:
    """The key's 32 hex digits, whatever case, dashes, braces or spaces it was typed with."""
    digits = _NOT_HEX.sub("", typed.strip().lower().replace("{", "").replace("}", ""))
    if len(digits) != KEY_HEX_DIGITS or len(typed) > 64:
        return None
    return digits


def key_digest(normalized_key: str) -> str:
    """SHA-256 of the normalised key: 122 random bits need no slow hash, and lookups stay exact."""
    return hashlib.sha256(normalized_key.encode()).hexdigest()


def normalize_person_id(typed: str) -> str:
    """The SIS Person ID as typed, trimmed; compared exactly otherwise."""
    return typed.strip()
