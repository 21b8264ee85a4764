"""A real SMTP server for tests (aiosmtpd in a thread), collecting what it receives.

    sink = SmtpSink()
    sink.start()                 # listens on 127.0.0.1:<free port>, see sink.port
    sink.refuse("x@example.org", "550 no such user")   # or "451 try later"
    ...
    sink.messages                # list of email.message.EmailMessage, in arrival order
    sink.stop(); sink.start()    # down, then up again on the same port

The `smtp_sink` fixture in tests/conftest.py starts one per test and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port

HOST = "127.0.0.1"


class _Handler:
    """aiosmtpd hooks: refuse chosen recipients, keep every accepted message."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(  # noqa: N802 - the hook name aiosmtpd looks for
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refusal = self._sink.refusal_for(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - the hook name aiosmtpd looks for
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        raw = envelope.original_content or envelope.content
        if self._sink.delay_seconds:
            await asyncio.sleep(self._sink.delay_seconds)  # a slow server: time to kill a worker
        self._sink.receive(BytesParser(policy=policy.default).parsebytes(raw), envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that stores messages instead of delivering them."""

    def __init__(self) -> None:
        self.port = 0
        self.delay_seconds = 0.0
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._envelope_recipients: list[list[str]] = []
        self._refusals: dict[str, str] = {}
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        """A copy of the messages received so far (thread-safe)."""
        with self._lock:
            return list(self._messages)

    @property
    def envelope_recipients(self) -> list[list[str]]:
        """RCPT TO addresses of each received message, in the order of `messages`."""
        with self._lock:
            return [list(recipients) for recipients in self._envelope_recipients]

    @property
    def is_running(self) -> bool:
        """Whether the server is listening."""
        return self._controller is not None

    def start(self) -> None:
        """Listen, on the port used before if there was one, else on a free port."""
        if self._controller is not None:
            return
        port = self.port or free_port()
        # A fresh controller each time: a stopped one has closed its event loop.
        controller = Controller(
            _Handler(self), hostname=HOST, port=port, ready_timeout=10, server_hostname="sink.test"
        )
        controller.start()
        self._controller, self.port = controller, port

    def stop(self) -> None:
        """Stop listening (clients then get `connection refused`); messages are kept."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, recipient: str, reply: str = "550 no such user") -> None:
        """Answer RCPT TO for `recipient` with `reply`, e.g. "451 try later"."""
        with self._lock:
            self._refusals[recipient.lower()] = reply

    def accept(self, recipient: str) -> None:
        """Accept `recipient` again."""
        with self._lock:
            self._refusals.pop(recipient.lower(), None)

    def refusal_for(self, recipient: str) -> str | None:
        """The reply chosen for this recipient, or None to accept it."""
        with self._lock:
            return self._refusals.get(recipient.lower())

    def receive(self, message: EmailMessage, recipients: list[str]) -> None:
        """Keep one received message (called from the server's thread)."""
        with self._lock:
            self._messages.append(message)
            self._envelope_recipients.append(list(recipients))

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._lock:
            self._messages.clear()
            self._envelope_recipients.clear()
