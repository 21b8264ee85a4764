"""The input guard: a request that carries a NUL or another control character, or bytes that
are not UTF-8, is refused with a 400 before anything else reads it (issue 14, item 4).

No person types such input. Before this guard, PostgreSQL refused the NUL of a typed username
in the middle of a view (an HTML 500, with the database error logging the typed value), SQLite
stored it, and invalid UTF-8 became replacement characters, or a decoding error inside Authlib.

Checked: the path, the query string and the form body as sent (percent-escapes decoded, so
`%00` and `%FF` count), the fields of a multipart form (names, values, file names), JSON bodies
(every key and string) and the credentials of HTTP Basic authentication, which Authlib decodes
itself. TAB, LF and CR pass: a multi-line field sends CR LF. Cookies are not checked: the
session interface reads its cookie only through a digest or a signature, so a bad cookie is no
session, while refusing it would lock the browser out until the cookie expired.

Installed as the application's first `before_request` (before CSRF, which parses the form):
the body is read and cached here, then parsed from the cache by whoever needs the form.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.exceptions import BadRequest

log = logging.getLogger("idp.web")

# C0 controls except TAB, LF and CR; and lone surrogates, which only a JSON escape can make.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# A multipart field was decoded by Werkzeug with errors="replace": U+FFFD marks a bad byte.
_REPLACED = "\ufffd"


class UnreadableInputError(BadRequest):
    """The request holds characters no form sends; `where` names the part (never its value)."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where


def install(app: Flask) -> None:
    """Run the guard before every other before_request hook of the application."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unreadable_input)


def refuse_unreadable_input() -> None:
    """before_request: raise UnreadableInputError for a request with unreadable input."""
    where = unreadable_part()
    if where is None:
        return
    g.request_id = g.get("request_id") or secrets.token_hex(8)
    log.warning("web:input:unreadable request_id=%s part=%s", g.request_id, where)
    raise UnreadableInputError(where)


def unreadable_part() -> str | None:
    """The first part of the current request that is unreadable, or None."""
    checks = (
        ("path", _path_is_readable),
        ("query", lambda: _is_readable_urlencoded(request.query_string)),
        ("authorization", _authorization_is_readable),
        ("body", _body_is_readable),
    )
    for where, is_readable in checks:
        if not is_readable():
            return where
    return None


def is_readable_text(text: str) -> bool:
    """True if the text holds no refused control character (nor a lone surrogate)."""
    return _UNREADABLE.search(text) is None


def _is_readable_bytes(raw: bytes) -> bool:
    try:
        return is_readable_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _is_readable_urlencoded(raw: bytes) -> bool:
    """A query string or form body, as sent and with its escapes decoded ('+' is a space).
    Decoding the whole string at once is exact: '&' and '=' are ASCII, never inside a
    multi-byte character, so it is valid UTF-8 if and only if every name and value is."""
    return _is_readable_bytes(raw) and _is_readable_bytes(unquote_to_bytes(raw.replace(b"+", b" ")))


def _path_is_readable() -> bool:
    # PEP 3333: PATH_INFO holds the path's bytes (escapes decoded) as Latin-1 characters.
    try:
        raw = request.environ.get("PATH_INFO", "").encode("latin-1")
    except UnicodeEncodeError:
        return False
    return _is_readable_bytes(raw)


def _authorization_is_readable() -> bool:
    """HTTP Basic credentials as Authlib reads them: base64 of UTF-8, each part %-escaped.

    The header itself is ASCII (RFC 9110 11.6.2: a scheme, then a token68 or parameters):
    Authlib decodes Basic credentials as ASCII, and "Basic é" raised inside it (a 500 found by
    schemathesis). A scheme with nothing after it is the client authentication's to refuse
    (PortalAuthorizationServer.authenticate_client), and a 401 at userinfo."""
    header = request.headers.get("Authorization", "")
    if not header.isascii() or not is_readable_text(header):
        return False
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return True
    try:
        raw = base64.b64decode(credentials.strip())
    except (binascii.Error, ValueError):
        return True  # not base64: Authlib ignores it, and the client is not authenticated
    return _is_readable_bytes(raw) and _is_readable_bytes(unquote_to_bytes(raw))


def _body_is_readable() -> bool:
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        return _is_readable_urlencoded(request.get_data(cache=True))
    if mimetype == "multipart/form-data":
        return all(is_readable_text(text) and _REPLACED not in text for text in _multipart_texts())
    if request.is_json:
        return _json_is_readable(request.get_data(cache=True))
    return True


def _multipart_texts() -> Iterator[str]:
    for name, value in request.form.items(multi=True):
        yield name
        yield value
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""


def _json_is_readable(raw: bytes) -> bool:
    """RFC 8259 8.1: JSON exchanged between systems is UTF-8. A body that does not parse is
    left to the view (which answers it as it answers any malformed JSON)."""
    try:
        document = json.loads(raw.decode("utf-8")) if raw else None
    except UnicodeDecodeError:
        return False
    except (ValueError, RecursionError):
        return True
    return all(is_readable_text(text) for text in _json_strings(document))


def _json_strings(value: Any) -> Iterator[str]:
    """Every key and string of a JSON document, however deeply nested."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item.keys()
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
