"""The staff second factor (issue 16.1): a TOTP authenticator app (RFC 6238) and recovery codes.

Enrollment happens at the first staff sign-in: `start_enrollment` makes a secret, shown as an
inline SVG QR code (no request leaves the page) and in groups of four for manual entry;
`confirm_enrollment` accepts the first code and hands out the recovery codes, in clear this
once. Then every staff sign-in passes `verify`. A lost authenticator is reset by a district
admin (`reset`, audited); the next sign-in enrolls again.

At rest: the TOTP secret is Fernet-encrypted with the key-encryption key, as the signing keys
are (idp/oidc/keys.py); the recovery codes are HMAC digests only. Time comes from the injected
clock, never from pyotp's own reading of the system time. The service never commits: the edge
does (idp/unit_of_work.py); a refused code is audited and counted, and kept with its error.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import pyotp
import segno
from cryptography.fernet import Fernet
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.throttle import FailureThrottle
from idp.policy import LockoutPolicy
from idp.policy.staff import SecondFactorPolicy
from idp.staff.access import VIA_COMMAND_LINE
from idp.staff.errors import (
    EnrollmentCodeWrongError,
    NotStaffAccountError,
    SecondFactorAlreadyEnrolledError,
    SecondFactorCodeReusedError,
    SecondFactorCodeWrongError,
    SecondFactorLockedError,
    SecondFactorNotEnrolledError,
    SecondFactorNotStartedError,
    SecondFactorResetNotAllowedError,
    SecondFactorResetReasonError,
)
from idp.staff.models import StaffRecoveryCode, StaffSecondFactor
from idp.staff.rules import cleaned_reason

RESET_REASON_MAX_LENGTH = 500
TOTP_CODE = re.compile(r"[0-9]{6}")
# Recovery codes: 3 groups of 4 characters without look-alikes (0/o, 1/i/l), so 12 characters
# of 31: about 59 bits each, far beyond guessing within the lockout policy.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4
# Keeps these digests apart from the throttle's names, HMAC'd with the same server key.
RECOVERY_NAMESPACE = "staff_recovery_code:"
THROTTLE_NAMESPACE = "second_factor:"


@dataclass(frozen=True)
class SecondFactorSetup:
    """What the second factor is configured with."""

    lockout: LockoutPolicy  # credentials.toml [lockout]: wrong codes lock the account a while
    key_encryption_key: str = field(repr=False)  # IDP_KEY_ENCRYPTION_KEY (Fernet)
    digest_key: bytes = field(repr=False)  # HMAC key of the recovery codes and the throttle
    issuer_name: str = "Portal IdP"  # shown by the authenticator app next to the username
    recovery_code_count: int = 10
    valid_window: int = 1  # steps accepted either side of now: clock drift of a phone


@dataclass(frozen=True)
class Enrollment:
    """What the enrollment page shows: each of them gives the secret away, so no repr."""

    secret: str = field(repr=False)  # base32, in groups of four, for manual entry
    provisioning_uri: str = field(repr=False)  # otpauth://totp/... (Key Uri Format)
    qr_svg: str = field(repr=False)  # an inline <svg> of the URI: nothing to fetch


class SecondFactorService:
    """Enrolls, verifies and resets a staff account's authenticator app and recovery codes."""

    def __init__(
        self, session: Session, clock: Clock, audit: AuditLog, setup: SecondFactorSetup
    ) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit
        self._setup = setup
        self._fernet = Fernet(setup.key_encryption_key.encode())
        self._throttle = FailureThrottle(
            session, clock, setup.lockout, setup.digest_key, THROTTLE_NAMESPACE
        )

    def start_enrollment(self, account: Account) -> Enrollment:
        """A new secret, pending until its first code is confirmed; replaces a pending one."""
        if account.kind != AccountKind.STAFF:
            raise NotStaffAccountError
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is not None and factor.confirmed_at is not None:
            raise SecondFactorAlreadyEnrolledError
        now = self._clock.now()
        secret = pyotp.random_base32()  # 160 bits from `secrets` (RFC 4226 4, R6)
        # The token Fernet.encrypt makes (idp/oidc/keys.py), stamped with the clock's time.
        encrypted = self._fernet.encrypt_at_time(secret.encode(), int(now.timestamp()))
        if factor is None:
            factor = StaffSecondFactor(account_id=account.id)
            self._session.add(factor)
        factor.secret_encrypted = encrypted.decode("ascii")
        factor.created_at = now
        factor.last_used_step = None
        self._audit.record("staff:second_factor:started", subject_id=account.id)
        return self._enrollment(account, secret)

    def pending_enrollment(self, account: Account) -> Enrollment | None:
        """The enrollment started and not yet confirmed, shown again (a reloaded page keeps
        the secret the phone may have scanned already); None if there is none."""
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is None or factor.confirmed_at is not None:
            return None
        return self._enrollment(account, self._secret(factor))

    def _enrollment(self, account: Account, secret: str) -> Enrollment:
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=account.username or account.sub, issuer_name=self._setup.issuer_name
        )
        grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        # svg_inline: no XML declaration, no namespace, no external reference (no <image>).
        qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
        return Enrollment(secret=grouped, provisioning_uri=uri, qr_svg=qr_svg)

    def _secret(self, factor: StaffSecondFactor) -> str:
        return self._fernet.decrypt(factor.secret_encrypted.encode("ascii")).decode()

    def confirm_enrollment(self, account: Account, code: str) -> list[str]:
        """Accept the first code of the pending secret; return the recovery codes, in clear
        this once (only their digests are stored)."""
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is None:
            raise SecondFactorNotStartedError
        if factor.confirmed_at is not None:
            raise SecondFactorAlreadyEnrolledError
        step = self._matching_step(factor, _normalised(code))
        if step is None:
            raise EnrollmentCodeWrongError
        # Guarded: a second confirmation at once, or a restart that replaced the secret since
        # it was read, changes nothing.
        confirmed = self._session.execute(
            update(StaffSecondFactor)
            .where(
                StaffSecondFactor.account_id == account.id,
                StaffSecondFactor.confirmed_at.is_(None),
                StaffSecondFactor.secret_encrypted == factor.secret_encrypted,
            )
            .values(confirmed_at=self._clock.now(), last_used_step=step)
            .returning(StaffSecondFactor.account_id)
        ).first()
        if confirmed is None:
            raise SecondFactorNotStartedError
        codes = self._new_recovery_codes(account)
        self._audit.record(
            "staff:second_factor:enrolled", subject_id=account.id, recovery_codes=len(codes)
        )
        return codes

    def enroll_known_secret(self, account: Account, secret: str) -> None:
        """Enroll `secret` (base32) at once, without recovery codes: only for the demo district,
        whose staff secrets are printed by `idp demo load` like its public password."""
        if account.kind != AccountKind.STAFF:
            raise NotStaffAccountError
        if self.is_enrolled(account):
            raise SecondFactorAlreadyEnrolledError
        now = self._clock.now()
        encrypted = self._fernet.encrypt_at_time(secret.encode(), int(now.timestamp()))
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is None:
            factor = StaffSecondFactor(account_id=account.id)
            self._session.add(factor)
        factor.secret_encrypted = encrypted.decode("ascii")
        factor.created_at = now
        factor.confirmed_at = now
        factor.last_used_step = None
        self._audit.record("staff:second_factor:enrolled", subject_id=account.id, recovery_codes=0)

    def is_enrolled(self, account: Account) -> bool:
        """Whether the account has a confirmed authenticator app."""
        confirmed_at = self._session.execute(
            select(StaffSecondFactor.confirmed_at).where(StaffSecondFactor.account_id == account.id)
        ).scalar_one_or_none()
        return confirmed_at is not None

    def verify(self, account: Account, code: str) -> None:
        """Accept a current TOTP code of a step not used before, or an unused recovery code
        (used up by this); anything else is audited, counted towards the lock and refused."""
        name = str(account.id)
        minutes = self._throttle.locked_minutes(name)
        if minutes is not None:
            raise SecondFactorLockedError(minutes=minutes)
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is None or factor.confirmed_at is None:
            raise SecondFactorNotEnrolledError
        typed = _normalised(code)
        is_totp = TOTP_CODE.fullmatch(typed) is not None
        if is_totp:
            refusal = self._use_totp(factor, typed)
        else:
            refusal = self._use_recovery_code(account, typed)
        if refusal is not None:
            self._record_failure(account, refusal, "totp" if is_totp else "recovery_code")
            raise refusal
        self._throttle.clear(name)

    def reset(self, account: Account, admin_account: Account | None, reason: str) -> None:
        """Remove the account's authenticator and recovery codes: the next sign-in enrolls
        again. The desk checks that `admin_account` is a district admin; None is the command
        line (district IT on the server, trusted), audited `via` it with no actor."""
        if admin_account is not None and (
            admin_account.kind != AccountKind.STAFF or admin_account.id == account.id
        ):
            raise SecondFactorResetNotAllowedError
        cleaned = cleaned_reason(reason, RESET_REASON_MAX_LENGTH)
        if cleaned is None:
            raise SecondFactorResetReasonError(max_length=RESET_REASON_MAX_LENGTH)
        factor = self._session.get(StaffSecondFactor, account.id)
        if factor is None:
            raise SecondFactorNotEnrolledError
        self._session.execute(
            delete(StaffRecoveryCode).where(StaffRecoveryCode.account_id == account.id)
        )
        self._session.delete(factor)
        self._throttle.clear(str(account.id))  # a fresh start, with its lock lifted
        details: dict[str, Any] = {"reason": cleaned}
        if admin_account is None:
            details["via"] = VIA_COMMAND_LINE
        actor_id = admin_account.id if admin_account is not None else None
        self._audit.record(
            "staff:second_factor:reset", actor_id=actor_id, subject_id=account.id, **details
        )

    def _matching_step(self, factor: StaffSecondFactor, typed: str) -> int | None:
        """The time step whose code `typed` is, within the valid window around the clock's
        now, or None."""
        if not TOTP_CODE.fullmatch(typed):
            return None
        secret = self._secret(factor)
        try:
            return pyotp.TOTP(secret).verify_and_get_timecode(
                typed, for_time=self._clock.now(), valid_window=self._setup.valid_window
            )
        except OTPVerificationError:
            return None

    def _use_totp(self, factor: StaffSecondFactor, typed: str) -> SecondFactorCodeWrongError | None:
        step = self._matching_step(factor, typed)
        if step is None:
            return SecondFactorCodeWrongError()
        # RFC 6238 5.2: one code per step. Guarded, so of two requests with the same code at
        # once only one moves the step.
        claimed = self._session.execute(
            update(StaffSecondFactor)
            .where(
                StaffSecondFactor.account_id == factor.account_id,
                or_(
                    StaffSecondFactor.last_used_step.is_(None),
                    StaffSecondFactor.last_used_step < step,
                ),
            )
            .values(last_used_step=step)
            .returning(StaffSecondFactor.account_id)
        ).first()
        return None if claimed is not None else SecondFactorCodeReusedError()

    def _use_recovery_code(self, account: Account, typed: str) -> SecondFactorCodeWrongError | None:
        used = self._session.execute(
            update(StaffRecoveryCode)
            .where(
                StaffRecoveryCode.account_id == account.id,
                StaffRecoveryCode.code_digest == self._digest(account.id, typed),
                StaffRecoveryCode.used_at.is_(None),
            )
            .values(used_at=self._clock.now())
            .returning(StaffRecoveryCode.id)
        ).first()
        if used is None:
            return SecondFactorCodeWrongError()
        remaining = self._session.execute(
            select(func.count())
            .select_from(StaffRecoveryCode)
            .where(StaffRecoveryCode.account_id == account.id, StaffRecoveryCode.used_at.is_(None))
        ).scalar_one()
        self._audit.record(
            "staff:second_factor:recovery_code_used", subject_id=account.id, remaining=remaining
        )
        return None

    def _record_failure(
        self, account: Account, refusal: SecondFactorCodeWrongError, method: str
    ) -> None:
        """Audit the refusal (its error code, never the typed code) and count it."""
        self._audit.record(
            "staff:second_factor:failed",
            subject_id=account.id,
            method=method,
            refusal=refusal.code,
        )
        if self._throttle.record_failure(str(account.id)):
            self._audit.record("staff:second_factor:locked", subject_id=account.id)

    def _new_recovery_codes(self, account: Account) -> list[str]:
        codes: list[str] = []
        while len(codes) < self._setup.recovery_code_count:
            code = "-".join(
                "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
                for _ in range(RECOVERY_GROUPS)
            )
            if code not in codes:
                codes.append(code)
        self._session.add_all(
            StaffRecoveryCode(account_id=account.id, code_digest=self._digest(account.id, code))
            for code in codes
        )
        return codes

    def _digest(self, account_id: int, code: str) -> str:
        """HMAC-SHA256 of a normalised recovery code, keyed with the server key. Not argon2:
        the codes are random with ~59 bits each, so a slow hash adds nothing against a stolen
        table, and a sign-in would otherwise hash the typed code once per stored code (10)."""
        message = f"{RECOVERY_NAMESPACE}{account_id}:{_normalised(code)}".encode()
        return hmac.new(self._setup.digest_key, message, hashlib.sha256).hexdigest()


def _normalised(code: str) -> str:
    """A typed code without spaces, dashes or case: `K7QM 2xwd-9fhp` is `k7qm2xwd9fhp`."""
    return "".join(code.split()).replace("-", "").lower()


def build_second_factor(
    *,
    session: Session,
    clock: Clock,
    audit: AuditLog,
    policy: SecondFactorPolicy,
    key_encryption_key: str,
    name_key: bytes,
    issuer_name: str = "Portal IdP",
) -> SecondFactorService:
    """The staff second factor, complete at construction. `policy` is staff.toml
    [second_factor]; `name_key` is the server's HMAC key (settings.secret_key.encode(), as for
    the throttle table in idp/services.py)."""
    # staff.toml says "after N wrong codes, locked for M minutes": a fixed lock (first = max),
    # counted within the same M minutes.
    lockout = LockoutPolicy(
        lock_after_failures=policy.lock_after_failures,
        first_lock_minutes=policy.lock_minutes,
        max_lock_minutes=policy.lock_minutes,
        window_minutes=policy.lock_minutes,
    )
    setup = SecondFactorSetup(
        lockout=lockout,
        key_encryption_key=key_encryption_key,
        digest_key=name_key,
        issuer_name=issuer_name,
        recovery_code_count=policy.recovery_codes,
    )
    return SecondFactorService(session, clock, audit, setup)
