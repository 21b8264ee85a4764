"""Mode `http`: the district's verification URL checks the IC password.

The contract (README "Infinite Campus bridge"): the provider POSTs
`{"username": ..., "password": ...}` as JSON to IDP_BRIDGE_URL (https outside development),
never following a redirect. The password travels only in the body: never in the URL, and never
in a log line. The service answers

- 200 `{"valid": true, "person_id": "<SIS Person ID>"}` for the right password,
- 200 `{"valid": false}`, or status 401 or 403, for a wrong username or password;

anything else (no connection, a timeout, a 5xx, a redirect, a body that is not that JSON) means
the check could not be made: BridgeUnavailableError, and no failure is counted.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from idp.bridge.errors import BridgeUnavailableError
from idp.bridge.models import LegacyCredential
from idp.bridge.verifiers import INVALID, Verdict

log = logging.getLogger("idp.bridge")

_REFUSED = frozenset({401, 403})
_MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: the password is never sent on to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpVerifier:
    """POSTs the IC username and password to the district's verification URL."""

    def __init__(self, url: str, timeout_seconds: float) -> None:
        self._url = url
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirects)

    def verify(self, ic_username: str, password: str, stored: LegacyCredential | None) -> Verdict:
        """The district's answer; raise BridgeUnavailableError when there is none."""
        status, body = self._post({"username": ic_username, "password": password})
        if status in _REFUSED:
            return INVALID
        if status != 200:
            raise _unavailable(f"status_{status}")
        return _verdict(body)

    def _post(self, fields: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - IDP_BRIDGE_URL is checked to be http(s)
            self._url,
            data=json.dumps(fields).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return int(response.status), response.read(_MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            error.close()
            return error.code, b""
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # The exception's type names the trouble (refused, timeout...); its text may quote
            # the request and is not logged.
            raise _unavailable(type(error).__name__) from None


def _verdict(body: bytes) -> Verdict:
    try:
        answer = json.loads(body)
    except ValueError:
        raise _unavailable("not_json") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("valid"), bool):
        raise _unavailable("no_valid_field")
    if not answer["valid"]:
        return INVALID
    person_id = answer.get("person_id")
    if not isinstance(person_id, str) or not person_id.strip():
        raise _unavailable("no_person_id")
    return Verdict(is_valid=True, sis_person_id=person_id.strip())


def _unavailable(reason: str) -> BridgeUnavailableError:
    log.warning("bridge:http:unavailable reason=%s", reason)
    return BridgeUnavailableError()
