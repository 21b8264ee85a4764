"""Who checks a legacy IC password: the imported hashes, or the district's verification URL.

IC publishes no supported API for this, so the district picks with IDP_BRIDGE_MODE; both sides
answer the same question in the same shape, and the bridge service does the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from idp.bridge import rules
from idp.bridge.errors import VerifierError
from idp.bridge.models import LegacyCredential
from idp.credentials.hashing import SecretHasher

log = logging.getLogger("idp.bridge")


@dataclass(frozen=True)
class Verdict:
    """The answer to "is this the IC password of this IC username?"."""

    is_valid: bool
    # The SIS Person ID the district's URL named (mode `http`); None when the row says it.
    sis_person_id: str | None = None


INVALID = Verdict(is_valid=False)


class LegacyVerifier(Protocol):
    """Checks an IC username and password; raises BridgeUnavailableError when it cannot."""

    def verify(self, ic_username: str, password: str, stored: LegacyCredential | None) -> Verdict:
        """`stored` is the imported row of this IC username, if there is one."""


class ImportedVerifier:
    """Mode `imported`: the hash loaded by `idp bridge import`, compared in constant time."""

    def __init__(self, hasher: SecretHasher) -> None:
        self._hasher = hasher

    def verify(self, ic_username: str, password: str, stored: LegacyCredential | None) -> Verdict:
        """Valid only against a well-formed imported hash of this username."""
        if stored is None or stored.scheme == rules.REMOTE:
            # An unknown name costs what a known one does (one argon2 verification, as the
            # sign-in of an unknown portal username), so timing tells little about who exists.
            self._hasher.verify(None, password)
            return INVALID
        try:
            is_valid = rules.matches(stored.scheme, stored.verifier, password)
        except VerifierError as error:
            # Changed in the database by hand? Refused; the code and row id, never the hash.
            log.warning("bridge:verifier:malformed credential_id=%s %s", stored.id, error.code)
            return INVALID
        return Verdict(is_valid=is_valid)
