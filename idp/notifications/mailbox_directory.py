"""The development mailbox: each outgoing email becomes an `.eml` file in a folder.

Used when no SMTP host is configured, so a developer can read what would have been sent
(the `/dev/mailbox` page in development). Files are named `<utc-timestamp>-<random>.eml`,
so their names sort by the time on the message.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

# What `send` writes; anything else (temporary files, `../x`, `a/b.eml`) is not a message.
MESSAGE_NAME = re.compile(r"\A[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.eml\Z")
LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class MailboxEntry:
    """One stored message, as the list shows it."""

    name: str
    recipient: str
    subject: str
    sent_at: datetime | None


def _sent_at(message: EmailMessage) -> datetime | None:
    """The Date header as an aware UTC time, or None when it is missing or unreadable."""
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        value = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


class MailboxDirectory:
    """A folder of `.eml` files standing in for an SMTP server."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: EmailMessage) -> None:
        """Store the message atomically (write a temporary file, then rename it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        sent_at = _sent_at(message) or datetime.fromtimestamp(0, UTC)
        name = f"{sent_at:%Y%m%dT%H%M%S}Z-{secrets.token_hex(8)}.eml"
        temporary = self.path / f".{name}.tmp"
        temporary.write_bytes(message.as_bytes(policy=policy.SMTP))
        os.replace(temporary, self.path / name)

    def list_messages(self) -> list[MailboxEntry]:
        """Every stored message, newest first."""
        if not self.path.is_dir():
            return []
        files = [path for path in self.path.iterdir() if MESSAGE_NAME.match(path.name)]
        # Names sort by the Date header (whole seconds); the write time breaks ties.
        files.sort(key=lambda path: (path.name[:16], path.stat().st_mtime_ns), reverse=True)
        return [self._entry(path) for path in files]

    def read(self, name: str) -> EmailMessage | None:
        """The stored message called `name`, or None (also for names that are not ours)."""
        if not MESSAGE_NAME.match(name):
            return None
        path = self.path / name
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            return BytesParser(policy=policy.default).parse(handle)

    def _entry(self, path: Path) -> MailboxEntry:
        with path.open("rb") as handle:
            message = BytesHeaderParser(policy=policy.default).parse(handle)
        return MailboxEntry(
            name=path.name,
            recipient=str(message.get("To", "")),
            subject=str(message.get("Subject", "")),
            sent_at=_sent_at(message),
        )


def body_text(message: EmailMessage, subtype: str) -> str | None:
    """The message's `text/<subtype>` part as text, or None when it has none."""
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


def links_in(text: str) -> list[str]:
    """The http(s) addresses in a text, in order, each once (without a sentence's last dot)."""
    return list(dict.fromkeys(link.rstrip(".,;:!?)") for link in LINK.findall(text)))
