"""Signing keys: creation, JWT round trips, delayed rotation, caching, encryption, CLI."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from idp.cli import main
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db
from idp.oidc.errors import SigningKeyError
from idp.oidc.keys import JWKS_CACHE_SECONDS, SigningKeyService, build_signing_keys, key_state
from idp.oidc.models import SigningKey
from idp.policy import OidcPolicy
from tests.conftest import START

ALGS = ["RS256", "ES256"]
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
CLAIMS = {"iss": "http://localhost", "sub": "account-1", "aud": "portal"}
ACTIVATION = timedelta(seconds=JWKS_CACHE_SECONDS)  # a rotated key signs this long after rotate()


def _policy(app: Flask) -> OidcPolicy:
    return cast(OidcPolicy, app.extensions["idp.policies"].oidc)


def _service(
    app: Flask, clock: FrozenClock, session: Session, key_encryption_key: str
) -> SigningKeyService:
    return SigningKeyService(session, clock, _policy(app), key_encryption_key)


@pytest.fixture
def keys(app: Flask, clock: FrozenClock, settings: Settings) -> SigningKeyService:
    """The service as the app would build it, on the test's session."""
    return build_signing_keys(
        cast(Session, db.session), clock, app.extensions["idp.policies"], settings
    )


def _kids(document: dict[str, Any]) -> set[str]:
    return {jwk["kid"] for jwk in document["keys"]}


def _sign(keys: SigningKeyService, alg: str) -> str:
    key, kid = keys.signing_key_with_kid(alg)
    return jwt.encode({"alg": alg, "kid": kid}, CLAIMS, key)


def _signed_kid(keys: SigningKeyService, alg: str) -> str:
    """The kid in the header of a token signed now, after checking it verifies via the JWKS."""
    return str(jwt.decode(_sign(keys, alg), keys.public_key_set()).header["kid"])


def _states(keys: SigningKeyService, at: datetime) -> list[tuple[str, str]]:
    return sorted((key.alg, key_state(key, at)) for key in keys.list_keys())


def _active_kids(keys: SigningKeyService, alg: str, at: datetime) -> list[str]:
    return [
        key.kid for key in keys.list_keys() if key.alg == alg and key_state(key, at) == "active"
    ]


def _raced_key(settings: Settings, alg: str, activated_at: datetime) -> SigningKey:
    """A key exactly as another process racing this one would have stored it."""
    parameters: KeyParameters = {"kid": f"raced-{alg}", "alg": alg, "use": "sig"}
    key = (
        RSAKey.generate_key(2048, parameters=parameters)
        if alg == "RS256"
        else ECKey.generate_key("P-256", parameters=parameters)
    )
    fernet = Fernet(settings.key_encryption_key.encode())
    return SigningKey(
        kid=key.kid,
        alg=alg,
        public_jwk=dict(key.as_dict()),
        private_key_encrypted=fernet.encrypt(
            json.dumps(key.as_dict(private=True)).encode()
        ).decode(),
        created_at=min(activated_at, START),
        activated_at=activated_at,
    )


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run on the app's engine while the test runs."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


# --- ensure_keys -------------------------------------------------------------------------------


def test_ensure_keys_creates_one_active_key_per_algorithm(keys: SigningKeyService) -> None:
    keys.ensure_keys()

    assert _states(keys, START) == [("ES256", "active"), ("RS256", "active")]


def test_ensure_keys_twice_changes_nothing(keys: SigningKeyService) -> None:
    keys.ensure_keys()
    before = [(key.kid, key.retired_at) for key in keys.list_keys()]

    keys.ensure_keys()

    assert [(key.kid, key.retired_at) for key in keys.list_keys()] == before


def test_ensure_keys_adds_only_the_missing_algorithm(keys: SigningKeyService) -> None:
    existing = keys.rotate("RS256").kid

    keys.ensure_keys()

    assert keys.active_kid("RS256") == existing
    assert _states(keys, START) == [("ES256", "active"), ("RS256", "active")]


def test_ensure_keys_settles_a_race_on_the_newest_key(
    keys: SigningKeyService, clock: FrozenClock, settings: Settings
) -> None:
    keys.ensure_keys()
    loser = keys.active_kid("RS256")
    clock.advance(seconds=1)
    db.session.add(_raced_key(settings, "RS256", clock.now()))
    db.session.commit()

    keys.ensure_keys()

    retired = next(key for key in keys.list_keys() if key.kid == loser)
    assert keys.active_kid("RS256") == "raced-RS256"
    assert retired.retired_at == clock.now()
    assert retired.unpublish_after == clock.now() + timedelta(minutes=15)
    assert loser in _kids(keys.jwks())


@pytest.mark.postgresql_only
def test_two_processes_starting_at_once_agree_on_one_key_per_algorithm(
    app: Flask, clock: FrozenClock, settings: Settings
) -> None:
    engine = db.engine  # the threads run outside the app context
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def start() -> None:
        with Session(engine) as session:
            try:
                barrier.wait(timeout=30)
                _service(app, clock, session, settings.key_encryption_key).ensure_keys()
            except BaseException as error:  # reported to the test thread below
                errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    keys = _service(app, clock, cast(Session, db.session), settings.key_encryption_key)
    states = _states(keys, clock.now())
    assert errors == []
    assert [state for state in states if state[1] == "active"] == [
        ("ES256", "active"),
        ("RS256", "active"),
    ]
    assert {state for _, state in states} <= {"active", "retired"}


# --- signing and verifying ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_with_the_signing_key_verifies_against_the_jwks(
    keys: SigningKeyService, alg: str
) -> None:
    keys.ensure_keys()
    token = _sign(keys, alg)

    decoded = jwt.decode(token, KeySet.import_key_set(keys.jwks()))  # type: ignore[arg-type]

    assert decoded.claims == CLAIMS
    assert decoded.header["kid"] == keys.active_kid(alg)
    assert decoded.header["alg"] == alg


@pytest.mark.parametrize("alg", ALGS)
def test_signing_key_is_decrypted_once_and_carries_the_active_kid(
    keys: SigningKeyService, alg: str
) -> None:
    keys.ensure_keys()

    first, second = keys.signing_key(alg), keys.signing_key(alg)

    assert first is second
    assert first.kid == keys.active_kid(alg)
    assert first.is_private


@pytest.mark.parametrize(
    ("alg", "kty", "size_member", "size"),
    [("RS256", "RSA", "n", 2048), ("ES256", "EC", "x", 256)],
)
def test_jwks_publishes_public_members_with_kid_alg_and_use(
    keys: SigningKeyService, alg: str, kty: str, size_member: str, size: int
) -> None:
    keys.ensure_keys()

    jwk = next(jwk for jwk in keys.jwks()["keys"] if jwk["alg"] == alg)

    assert jwk["kid"] == keys.active_kid(alg)
    assert (jwk["kty"], jwk["use"]) == (kty, "sig")
    assert not set(PRIVATE_MEMBERS) & set(jwk)
    assert len(jwk[size_member]) == -(-size // 6)  # base64url without padding


def test_fresh_install_signs_its_first_token_without_ensure_keys(
    keys: SigningKeyService,
) -> None:
    key = keys.signing_key("RS256")

    assert key.is_private
    assert key.kid == keys.active_kid("RS256")
    assert len(keys.jwks()["keys"]) == 2
    assert _states(keys, START) == [("ES256", "active"), ("RS256", "active")]


@pytest.mark.parametrize("call", ["signing_key", "active_kid", "signing_key_with_kid"])
def test_any_signing_call_creates_the_missing_keys(keys: SigningKeyService, call: str) -> None:
    getattr(keys, call)("ES256")

    assert _states(keys, START) == [("ES256", "active"), ("RS256", "active")]


def test_jwks_of_a_fresh_install_lists_both_keys(keys: SigningKeyService) -> None:
    document = keys.jwks()

    assert sorted(jwk["alg"] for jwk in document["keys"]) == ["ES256", "RS256"]
    assert _kids(document) == {keys.active_kid("RS256"), keys.active_kid("ES256")}


def test_jwks_creates_a_key_for_an_algorithm_that_has_none(keys: SigningKeyService) -> None:
    rs256 = keys.rotate("RS256").kid  # the only key: it signs at once

    document = keys.jwks()

    assert sorted(jwk["alg"] for jwk in document["keys"]) == ["ES256", "RS256"]
    assert rs256 in _kids(document)


@pytest.mark.parametrize("alg", ALGS)
def test_signing_key_with_kid_returns_the_key_and_its_kid(
    keys: SigningKeyService, alg: str
) -> None:
    key, kid = keys.signing_key_with_kid(alg)

    assert key.kid == kid == keys.active_kid(alg)
    assert key is keys.signing_key(alg)


@pytest.mark.parametrize("call", ["signing_key", "active_kid", "signing_key_with_kid", "rotate"])
def test_unsupported_algorithms_are_refused(keys: SigningKeyService, call: str) -> None:
    with pytest.raises(SigningKeyError, match="unsupported signing algorithm 'HS256'"):
        getattr(keys, call)("HS256")


def test_jwks_returns_a_copy_the_caller_cannot_corrupt(keys: SigningKeyService) -> None:
    keys.ensure_keys()
    keys.jwks()["keys"][0]["kid"] = "tampered"

    document = keys.jwks()

    assert "tampered" not in _kids(document)


# --- rotation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_before_rotation_still_verifies_after_it(
    keys: SigningKeyService, alg: str
) -> None:
    keys.ensure_keys()
    token = _sign(keys, alg)
    keys.rotate(alg)

    decoded = jwt.decode(token, keys.public_key_set())

    assert decoded.claims == CLAIMS


@pytest.mark.parametrize("alg", ALGS)
def test_rotated_key_is_published_at_once_and_signs_after_the_jwks_cache_time(
    keys: SigningKeyService, clock: FrozenClock, alg: str
) -> None:
    keys.ensure_keys()
    old = keys.active_kid(alg)

    new = keys.rotate(alg)

    assert new.activated_at == START + ACTIVATION
    assert new.kid in _kids(keys.jwks())
    assert _signed_kid(keys, alg) == old
    clock.advance(seconds=59)
    assert _signed_kid(keys, alg) == old
    clock.advance(seconds=2)
    assert _signed_kid(keys, alg) == new.kid
    assert keys.active_kid(alg) == new.kid


@pytest.mark.parametrize("cached_after_seconds", [0, 30, 59], ids=["0s", "30s", "59s"])
def test_cached_signing_key_never_outlives_its_retirement(
    keys: SigningKeyService, clock: FrozenClock, cached_after_seconds: int
) -> None:
    keys.ensure_keys()
    old = keys.active_kid("RS256")
    new = keys.rotate("RS256").kid
    clock.advance(seconds=cached_after_seconds)
    assert keys.active_kid("RS256") == old  # cached now; 60 s would reach past retired_at
    clock.set(START + ACTIVATION)

    assert keys.active_kid("RS256") == new


def test_cached_signing_key_never_outlives_a_pending_keys_activation(
    keys: SigningKeyService, clock: FrozenClock, settings: Settings
) -> None:
    keys.ensure_keys()
    [old] = _active_kids(keys, "RS256", START)  # list_keys(): not through the cache
    db.session.add(_raced_key(settings, "RS256", START + timedelta(seconds=30)))
    db.session.commit()
    assert keys.active_kid("RS256") == old  # cached now, until the known pending key starts
    clock.advance(seconds=30)

    assert keys.active_kid("RS256") == "raced-RS256"


def test_rotation_keeps_the_other_algorithm_active(
    keys: SigningKeyService, clock: FrozenClock
) -> None:
    keys.ensure_keys()
    es256 = keys.active_kid("ES256")

    keys.rotate("RS256")

    assert keys.active_kid("ES256") == es256
    assert _states(keys, START) == [("ES256", "active"), ("RS256", "active"), ("RS256", "pending")]
    clock.advance(seconds=JWKS_CACHE_SECONDS)
    assert keys.active_kid("ES256") == es256
    assert _states(keys, clock.now()) == [
        ("ES256", "active"),
        ("RS256", "active"),
        ("RS256", "retired"),
    ]


def test_rotating_twice_within_a_minute_hands_over_without_gap_or_overlap(
    keys: SigningKeyService, clock: FrozenClock
) -> None:
    keys.ensure_keys()
    first = keys.active_kid("RS256")
    second = keys.rotate("RS256").kid
    clock.advance(seconds=10)

    third = keys.rotate("RS256").kid

    def active_at(seconds: int) -> list[str]:
        return _active_kids(keys, "RS256", START + timedelta(seconds=seconds))

    assert [active_at(seconds) for seconds in (0, 59, 60, 69, 70, 600)] == [
        [first],
        [first],
        [second],
        [second],
        [third],
        [third],
    ]
    assert all(len(active_at(seconds)) == 1 for seconds in range(0, 200))


@pytest.mark.parametrize(
    "raced_after_seconds", [45, 60, 75], ids=["before-ours", "with-ours", "after-ours"]
)
def test_two_rotations_at_once_leave_exactly_one_active_key_at_every_instant(
    keys: SigningKeyService, clock: FrozenClock, settings: Settings, raced_after_seconds: int
) -> None:
    keys.ensure_keys()
    old = keys.active_kid("RS256")
    ours = keys.rotate("RS256").kid
    # The other process's rotate() found the old key already retired by ours and only added
    # its own pending key.
    db.session.add(_raced_key(settings, "RS256", START + timedelta(seconds=raced_after_seconds)))
    db.session.commit()

    keys.ensure_keys()

    # The newest activation wins; a tie goes to the lowest kid.
    winner = {45: ours, 60: min(ours, "raced-RS256"), 75: "raced-RS256"}[raced_after_seconds]
    active = [_active_kids(keys, "RS256", START + timedelta(seconds=s)) for s in range(200)]
    assert all(len(kids) == 1 for kids in active)
    assert (active[0], active[-1]) == ([old], [winner])
    assert all(
        key.unpublish_after is not None
        and key.unpublish_after >= key.retired_at + timedelta(minutes=15)
        for key in keys.list_keys()
        if key.retired_at is not None
    )


@pytest.mark.parametrize(
    ("lifetimes", "unpublish_minutes"),
    [
        ({}, 15),
        ({"id_token_minutes": 30}, 35),
        ({"access_token_minutes": 45}, 50),
        ({"client_credentials_minutes": 60}, 65),
    ],
    ids=["shipped-policy", "id-token-longest", "access-token-longest", "client-credentials"],
)
def test_rotation_publishes_the_old_key_for_the_longest_token_lifetime_plus_margin(
    app: Flask,
    clock: FrozenClock,
    settings: Settings,
    lifetimes: dict[str, int],
    unpublish_minutes: int,
) -> None:
    policy = _policy(app)
    policy = dataclasses.replace(policy, tokens=dataclasses.replace(policy.tokens, **lifetimes))
    keys = SigningKeyService(cast(Session, db.session), clock, policy, settings.key_encryption_key)
    old = keys.rotate("RS256").kid
    clock.advance(minutes=2)

    keys.rotate("RS256")

    retired = next(key for key in keys.list_keys() if key.kid == old)
    assert retired.retired_at == clock.now() + ACTIVATION
    assert retired.unpublish_after == retired.retired_at + timedelta(minutes=unpublish_minutes)


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_by_the_old_key_verifies_via_the_jwks_until_unpublish_after(
    keys: SigningKeyService, clock: FrozenClock, alg: str
) -> None:
    keys.ensure_keys()
    old = keys.active_kid(alg)
    keys.rotate(alg)
    clock.advance(seconds=59)
    token = _sign(keys, alg)  # the last second the old key signs
    retired = next(key for key in keys.list_keys() if key.kid == old)
    assert retired.unpublish_after == START + ACTIVATION + timedelta(minutes=15)
    clock.set(retired.unpublish_after - timedelta(seconds=1))

    decoded = jwt.decode(token, keys.public_key_set())

    assert decoded.header["kid"] == old
    clock.set(retired.unpublish_after)
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(token, keys.public_key_set())


@pytest.mark.parametrize(
    ("seconds_later", "is_published"),
    [(60 + 15 * 60 - 1, True), (60 + 15 * 60, False)],
    ids=["just-before-unpublish-after", "at-unpublish-after"],
)
def test_retired_key_leaves_the_jwks_at_unpublish_after(
    keys: SigningKeyService, clock: FrozenClock, seconds_later: int, is_published: bool
) -> None:
    keys.ensure_keys()
    old = keys.active_kid("RS256")
    keys.rotate("RS256")
    clock.advance(seconds=seconds_later)

    kids = _kids(keys.jwks())

    assert (old in kids) is is_published
    assert keys.active_kid("RS256") in kids


def test_cached_jwks_never_outlives_a_keys_unpublish_after(
    keys: SigningKeyService, clock: FrozenClock
) -> None:
    keys.ensure_keys()
    old = keys.active_kid("RS256")
    keys.rotate("RS256")
    clock.advance(minutes=15, seconds=30)
    assert old in _kids(keys.jwks())  # cached now; 60 s would reach past unpublish_after
    clock.advance(seconds=30)

    kids = _kids(keys.jwks())

    assert old not in kids


# --- JWKS cache --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds_later", "is_visible"),
    [(0, False), (59, False), (60, True)],
)
def test_key_rotated_by_another_process_is_published_within_60_seconds(
    app: Flask,
    keys: SigningKeyService,
    clock: FrozenClock,
    settings: Settings,
    seconds_later: int,
    is_visible: bool,
) -> None:
    keys.ensure_keys()
    keys.jwks()
    with Session(db.engine) as other_session:
        other = _service(app, clock, other_session, settings.key_encryption_key)
        new_kid = other.rotate("RS256").kid
    clock.advance(seconds=seconds_later)

    kids = _kids(keys.jwks())

    assert (new_kid in kids) is is_visible


def test_worker_never_signs_with_a_kid_its_jwks_lacks_while_another_process_rotates(
    app: Flask, keys: SigningKeyService, clock: FrozenClock, settings: Settings
) -> None:
    keys.ensure_keys()
    old = _signed_kid(keys, "RS256")  # the worker has cached its JWKS and its signing key
    clock.advance(seconds=20)
    with Session(db.engine) as other_session:
        other = _service(app, clock, other_session, settings.key_encryption_key)
        new = other.rotate("RS256").kid
        assert new in _kids(other.jwks())

    signed = []
    for _ in range(90):
        clock.advance(seconds=1)
        kid = _signed_kid(keys, "RS256")  # raises InvalidKeyIdError if the JWKS lacks it
        signed.append(kid)

    assert signed == [old] * 59 + [new] * 31


def test_rotation_on_the_same_instance_refreshes_the_jwks_at_once(
    keys: SigningKeyService,
) -> None:
    keys.ensure_keys()
    keys.jwks()

    new = keys.rotate("ES256")

    assert new.kid in _kids(keys.jwks())


# --- the hot path --------------------------------------------------------------------------------


def test_signing_within_the_cache_window_runs_no_sql(
    keys: SigningKeyService, clock: FrozenClock, statements: list[str]
) -> None:
    keys.ensure_keys()
    keys.signing_key_with_kid("RS256")
    clock.advance(seconds=JWKS_CACHE_SECONDS - 1)
    statements.clear()

    keys.signing_key("RS256")
    keys.active_kid("RS256")
    keys.signing_key_with_kid("RS256")

    assert statements == []


def test_signing_looks_the_key_up_again_after_the_cache_window(
    keys: SigningKeyService, clock: FrozenClock, statements: list[str]
) -> None:
    keys.ensure_keys()
    kid = keys.active_kid("RS256")
    clock.advance(seconds=JWKS_CACHE_SECONDS)
    statements.clear()

    assert keys.signing_key_with_kid("RS256")[1] == kid
    assert keys.active_kid("RS256") == kid
    assert len(statements) == 1


# --- encryption at rest ------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_private_parts_are_encrypted_at_rest(keys: SigningKeyService, alg: str) -> None:
    keys.ensure_keys()
    private = keys.signing_key(alg).as_dict(private=True)
    secrets_in_clear = [str(private[name]) for name in PRIVATE_MEMBERS if name in private]

    rows = db.session.execute(text("SELECT * FROM oidc_signing_key WHERE alg = :alg"), {"alg": alg})

    stored = " ".join(str(value) for row in rows for value in row)
    assert secrets_in_clear
    assert not [secret for secret in secrets_in_clear if secret in stored]
    assert "PRIVATE KEY" not in stored
    assert "'d'" not in stored
    assert '"d"' not in stored


def test_wrong_key_encryption_key_is_a_clear_error(
    app: Flask, keys: SigningKeyService, clock: FrozenClock
) -> None:
    keys.ensure_keys()
    other_key = Fernet.generate_key().decode()
    stranger = _service(app, clock, cast(Session, db.session), other_key)

    with pytest.raises(SigningKeyError, match="IDP_KEY_ENCRYPTION_KEY is not the key"):
        stranger.signing_key("RS256")


def test_key_encryption_key_must_be_a_fernet_key(app: Flask, clock: FrozenClock) -> None:
    with pytest.raises(SigningKeyError, match="must be a Fernet key"):
        _service(app, clock, cast(Session, db.session), "not-a-fernet-key")


# --- states ------------------------------------------------------------------------------------

_EARLIER = START - timedelta(minutes=1)
_LATER = START + timedelta(minutes=1)
_MUCH_LATER = START + timedelta(minutes=16)


@pytest.mark.parametrize(
    ("activated_at", "retired_at", "unpublish_after", "state"),
    [
        (START, None, None, "active"),
        (_EARLIER, _LATER, _MUCH_LATER, "active"),
        (START, START, _LATER, "retired"),
        (_EARLIER, START, _LATER, "retired"),
        (START, START, START, "unpublished"),
        (None, None, None, "pending"),
        (_LATER, None, None, "pending"),
        (_LATER, _LATER, _MUCH_LATER, "pending"),
        (_LATER, START, _LATER, "retired"),
    ],
    ids=[
        "active",
        "active-until-retired-at",
        "retired-at-activation",
        "retired",
        "unpublished",
        "never-activated",
        "activates-later",
        "cut-short-before-activating",
        "retired-before-activating",
    ],
)
def test_key_state(
    activated_at: datetime | None,
    retired_at: datetime | None,
    unpublish_after: datetime | None,
    state: str,
) -> None:
    key = SigningKey(
        activated_at=activated_at, retired_at=retired_at, unpublish_after=unpublish_after
    )

    assert key_state(key, START) == state


def test_pre_published_key_is_in_the_jwks_but_does_not_sign(
    keys: SigningKeyService, settings: Settings
) -> None:
    keys.ensure_keys()
    pending = _raced_key(settings, "ES256", START)
    pending.activated_at = None
    db.session.add(pending)
    db.session.commit()
    keys.rotate("RS256")  # drops the JWKS cache

    kids = _kids(keys.jwks())

    assert "raced-ES256" in kids
    assert keys.active_kid("ES256") != "raced-ES256"


# --- CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "alg"), [(["--alg", "ES256"], "ES256"), ([], "RS256")], ids=["ES256", "default"]
)
def test_cli_rotate_prints_the_new_kid_and_when_it_signs(
    app: Flask, keys: SigningKeyService, clock: FrozenClock, args: list[str], alg: str
) -> None:
    keys.ensure_keys()
    old = keys.active_kid(alg)

    result = app.test_cli_runner().invoke(main, ["signing-keys", "rotate", *args])

    assert result.exit_code == 0, result.output
    new = result.output.split()[0]
    assert result.output == f"{new} (signs from 2026-09-01T12:01:00+00:00)\n"
    assert new in _kids(keys.jwks())
    assert keys.active_kid(alg) == old
    clock.advance(seconds=JWKS_CACHE_SECONDS)
    assert keys.active_kid(alg) == new


@pytest.mark.parametrize(
    ("seconds_later", "new_state", "old_state"),
    [(0, "pending", "active"), (60, "active", "retired")],
    ids=["right-after-rotate", "after-activation"],
)
def test_cli_list_shows_pending_active_and_retired_keys(
    app: Flask,
    keys: SigningKeyService,
    clock: FrozenClock,
    seconds_later: int,
    new_state: str,
    old_state: str,
) -> None:
    keys.ensure_keys()
    old = keys.active_kid("ES256")
    runner = app.test_cli_runner()
    new = runner.invoke(main, ["signing-keys", "rotate", "--alg", "ES256"]).output.split()[0]
    clock.advance(seconds=seconds_later)

    result = runner.invoke(main, ["signing-keys", "list"])

    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()}
    assert result.exit_code == 0, result.output
    assert lines["kid"] == ["alg", "state", "created", "retired", "unpublished-after"]
    assert lines[new] == ["ES256", new_state, "2026-09-01T12:00:00+00:00", "-", "-"]
    assert lines[old] == [
        "ES256",
        old_state,
        "2026-09-01T12:00:00+00:00",
        "2026-09-01T12:01:00+00:00",
        "2026-09-01T12:16:00+00:00",
    ]
    assert len(lines) == 4
