"""The policy loader: the shipped files, exact error messages for bad files, and the helpers."""

import shutil
from dataclasses import FrozenInstanceError
from datetime import date
from operator import attrgetter
from pathlib import Path

import pytest

from idp.policy import (
    ClaimsPolicy,
    PolicyError,
    RolloutPolicy,
    RosterPolicy,
    School,
    StudentClaimPolicy,
    load_policies,
)

SHIPPED_POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the shipped policy files that a test may change."""
    return Path(shutil.copytree(SHIPPED_POLICIES, tmp_path / "policies"))


def replace_in(file: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in `file`; fail loudly if the file no longer has it."""
    text = file.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise LookupError(f"{old!r} is not in {file.name} exactly once")
    file.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def rollout() -> RolloutPolicy:
    """Two schools open since August 2024, one opening August 2027, one with no date yet."""
    return RolloutPolicy(
        roster=RosterPolicy(
            person_id_column="identifier",
            is_parent_legal_guardian=True,
            is_guardian_legal_guardian=True,
        ),
        schools=(
            School(sis_id="ES1", name="Lakeview Elementary", enabled_from=date(2024, 8, 15)),
            School(sis_id="HS1", name="Northfield High", enabled_from=date(2024, 8, 15)),
            School(sis_id="HS2", name="Eastgate High", enabled_from=date(2027, 8, 15)),
            School(sis_id="MS9", name="Not Yet Scheduled Middle"),
        ),
    )


@pytest.fixture
def claims() -> ClaimsPolicy:
    """A small release table: openid, profile and email."""
    return ClaimsPolicy(
        scopes={
            "openid": ("sub",),
            "profile": ("name", "preferred_username"),
            "email": ("email", "email_verified"),
        },
        student_claim=StudentClaimPolicy(is_released_to_students=True),
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("lifecycle.inactivity.disable_after_days", 183),
        ("lifecycle.inactivity.delete_after_days", 396),
        ("accounts.usernames.min_length", 8),
        ("accounts.usernames.max_length", 20),
        ("credentials.lockout.first_lock_minutes", 1),
        ("credentials.lockout.max_lock_minutes", 15),
        ("credentials.lockout.lock_after_failures", 5),
        ("credentials.hashing.memory_cost_kib", 19456),
        ("lifecycle.registration.provisioning_promise_minutes", 15),
        ("rollout.roster.person_id_column", "identifier"),
        (
            "accounts.communication.topics",
            ("grades", "attendance", "behaviour", "tests", "announcements"),
        ),
        ("accounts.communication.default_topics", ("grades", "attendance", "announcements")),
    ],
)
def test_loads_shipped_policies_with_faq_numbers(key: str, expected: object) -> None:
    policies = load_policies(SHIPPED_POLICIES)

    value = attrgetter(key)(policies)

    assert value == expected


def test_ships_demo_district_with_eastgate_opening_next_school_year() -> None:
    policies = load_policies(SHIPPED_POLICIES)

    enabled = policies.rollout.enabled_school_ids(date(2025, 1, 6))

    assert enabled == {"DEMO-ES1", "DEMO-MS1", "DEMO-HS1"}


@pytest.mark.parametrize(
    ("file_name", "old", "new", "expected"),
    [
        pytest.param(
            "accounts.toml",
            "\nis_reserved_after_deletion = true\n",
            '\nis_reserved_after_deletion = true\ncolour = "blue"\n',
            "accounts.toml: usernames.colour: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "lifecycle.toml",
            "\ndisable_after_days = 183\n",
            '\ndisable_after_days = "183"\n',
            "lifecycle.toml: inactivity.disable_after_days: Input should be a valid integer",
            id="string-where-int",
        ),
        pytest.param(
            "lifecycle.toml",
            "\nis_student_exempt = false\n",
            '\nis_student_exempt = "no"\n',
            "lifecycle.toml: inactivity.is_student_exempt: Input should be a valid boolean",
            id="string-where-bool",
        ),
        pytest.param(
            "credentials.toml",
            "\nwindow_minutes = 15\n",
            "\n",
            "credentials.toml: lockout.window_minutes: required key missing",
            id="missing-key",
        ),
        pytest.param(
            "lifecycle.toml",
            "\ndelete_after_days = 396\n",
            "\ndelete_after_days = 183\n",
            "lifecycle.toml: inactivity.delete_after_days: "
            "must be greater than inactivity.disable_after_days (183)",
            id="delete-equals-disable",
        ),
        pytest.param(
            "lifecycle.toml",
            "\nwarn_before_disable_days = 14\n",
            "\nwarn_before_disable_days = 183\n",
            "lifecycle.toml: inactivity.warn_before_disable_days: "
            "must be less than inactivity.disable_after_days (183)",
            id="warning-not-before-disable",
        ),
        pytest.param(
            "accounts.toml",
            "\nmax_length = 20\n",
            "\nmax_length = 21\n",
            "accounts.toml: usernames.max_length: Input should be less than or equal to 20",
            id="username-max-above-20",
        ),
        pytest.param(
            "accounts.toml",
            "\nmin_length = 8\n",
            "\nmin_length = 7\n",
            "accounts.toml: usernames.min_length: Input should be greater than or equal to 8",
            id="username-min-below-8",
        ),
        pytest.param(
            "rollout.toml",
            "schema_version = 1\n",
            "schema_version = 2\n",
            "rollout.toml: schema_version: unsupported version 2, expected 1",
            id="schema-version-2",
        ),
        pytest.param(
            "rollout.toml",
            "schema_version = 1\n",
            "",
            "rollout.toml: schema_version: required key missing",
            id="schema-version-missing",
        ),
        pytest.param(
            "claims.toml",
            'email = ["email", "email_verified"]',
            'email = ["email", "email_verified", "nickname"]',
            "claims.toml: scopes.email: unknown claim 'nickname'",
            id="unknown-claim",
        ),
        pytest.param(
            "claims.toml",
            'openid = ["sub"]',
            'openid = ["email"]',
            "claims.toml: scopes: the openid scope must release the sub claim",
            id="openid-without-sub",
        ),
        pytest.param(
            "rollout.toml",
            'sis_id = "DEMO-HS2"',
            'sis_id = "DEMO-HS1"',
            "rollout.toml: schools: duplicate sis_id 'DEMO-HS1'",
            id="duplicate-sis-id",
        ),
        pytest.param(
            "rollout.toml",
            "enabled_from = 2027-08-15",
            'enabled_from = "2027-08-15"',
            "rollout.toml: schools.3.enabled_from: Input should be a valid date",
            id="quoted-date",
        ),
        pytest.param(
            "credentials.toml",
            "\nrequired_correct = 3\n",
            "\nrequired_correct = 4\n",
            "credentials.toml: security_questions.required_correct: "
            "must not be greater than security_questions.count (3)",
            id="required-correct-above-count",
        ),
        pytest.param(
            "credentials.toml",
            '    "favourite_book",\n',
            '    "first_car",\n',
            "credentials.toml: security_questions.question_keys: duplicate key 'first_car'",
            id="duplicate-question-key",
        ),
        pytest.param(
            "credentials.toml",
            '    "first_job_town",\n    "favourite_book",\n'
            '    "oldest_cousin_name",\n    "grandmother_village",\n',
            "",
            "credentials.toml: security_questions.question_keys: "
            "List should have at least 10 items, not 9",
            id="too-few-question-keys",
        ),
        pytest.param(
            "claims.toml",
            'email = ["email", "email_verified"]',
            'email = "email"',
            "claims.toml: scopes.email: Input should be a valid list",
            id="string-where-list",
        ),
        pytest.param(
            "credentials.toml",
            "\nmemory_cost_kib = 19456\n",
            "\nmemory_cost_kib = 4096\n",
            "credentials.toml: hashing.memory_cost_kib: "
            "Input should be greater than or equal to 19456",
            id="argon2-memory-below-owasp",
        ),
        pytest.param(
            "accounts.toml",
            '"tests", "announcements"]\n',
            '"tests", "announcements", "lunch_menu"]\n',
            "accounts.toml: communication.topics: unknown topic 'lunch_menu'; known: 'grades', "
            "'attendance', 'behaviour', 'tests', 'announcements'",
            id="topic-without-label",
        ),
        pytest.param(
            "accounts.toml",
            '"tests", "announcements"]\n',
            '"tests", "announcements", "grades"]\n',
            "accounts.toml: communication.topics: duplicate topic 'grades'",
            id="duplicate-topic",
        ),
        pytest.param(
            "accounts.toml",
            'topics = ["grades", "attendance", "behaviour", "tests", "announcements"]',
            'topics = ["grades", "attendance", "behaviour", "tests"]',
            "accounts.toml: communication.default_topics: "
            "'announcements' must also be listed in communication.topics",
            id="default-topic-not-offered",
        ),
        pytest.param(
            "accounts.toml",
            'default_topics = ["grades", "attendance", "announcements"]',
            'default_topics = ["grades", "grades"]',
            "accounts.toml: communication.default_topics: duplicate topic 'grades'",
            id="duplicate-default-topic",
        ),
        pytest.param(
            "accounts.toml",
            'topics = ["grades", "attendance", "behaviour", "tests", "announcements"]',
            "topics = []",
            "accounts.toml: communication.topics: List should have at least 1 items, not 0",
            id="no-topics",
        ),
    ],
)
def test_refuses_malformed_policy_file(
    policy_dir: Path, file_name: str, old: str, new: str, expected: str
) -> None:
    replace_in(policy_dir / file_name, old, new)

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == expected


def test_refuses_delete_before_disable(policy_dir: Path) -> None:
    replace_in(
        policy_dir / "lifecycle.toml", "\ndelete_after_days = 396\n", "\ndelete_after_days = 90\n"
    )

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == (
        "lifecycle.toml: inactivity.delete_after_days: "
        "must be greater than inactivity.disable_after_days (183)"
    )


def test_refuses_username_min_length_above_max_length(policy_dir: Path) -> None:
    accounts = policy_dir / "accounts.toml"
    replace_in(accounts, "\nmin_length = 8\n", "\nmin_length = 12\n")
    replace_in(accounts, "\nmax_length = 20\n", "\nmax_length = 10\n")

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == (
        "accounts.toml: usernames.max_length: must not be less than usernames.min_length (12)"
    )


def test_reports_every_problem_of_a_file_on_one_line(policy_dir: Path) -> None:
    (policy_dir / "accounts.toml").write_text(
        "schema_version = 1\n"
        "[usernames]\nmin_length = 8\nmax_length = 20\nis_reserved_after_deletion = 1\n"
        "[emails]\nmax_length = 255\n"
        '[communication]\ntopics = ["grades"]\ndefault_topics = []\n'
        '[students]\nlogin = "student_id_birthdate"\nlock_after_failures = 3\n'
        "first_lock_minutes = 5\nmax_lock_minutes = 240\nwindow_minutes = 60\n"
        "ip_failures_per_minute = 10\nip_failures_per_hour = 60\n",
        encoding="utf-8",
    )

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == (
        "accounts.toml: usernames.is_reserved_after_deletion: Input should be a valid boolean; "
        "emails.max_length: Input should be less than or equal to 254"
    )


def test_refuses_missing_file(policy_dir: Path) -> None:
    (policy_dir / "accounts.toml").unlink()

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == f"accounts.toml: file not found in {policy_dir}"


def test_refuses_invalid_toml(policy_dir: Path) -> None:
    (policy_dir / "accounts.toml").write_text("schema_version = \n", encoding="utf-8")

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert (
        str(caught.value) == "accounts.toml: not valid TOML: Invalid value (at line 1, column 18)"
    )


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["openid"], {"sub"}),
        (["openid", "email"], {"sub", "email", "email_verified"}),
        (
            ("openid", "profile", "email"),
            {"sub", "name", "preferred_username", "email", "email_verified"},
        ),
        (["openid", "not_a_scope"], {"sub"}),
        ([], set()),
    ],
)
def test_releases_claims_of_requested_scopes_only(
    claims: ClaimsPolicy, scopes: list[str], expected: set[str]
) -> None:
    released = claims.claims_for(scopes)

    assert released == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2024, 8, 14), set()),
        (date(2024, 8, 15), {"ES1", "HS1"}),
        (date(2026, 11, 2), {"ES1", "HS1"}),
        (date(2027, 8, 15), {"ES1", "HS1", "HS2"}),
    ],
)
def test_enables_schools_from_their_enabled_from_day(
    rollout: RolloutPolicy, on: date, expected: set[str]
) -> None:
    enabled = rollout.enabled_school_ids(on)

    assert enabled == expected


@pytest.mark.parametrize(
    ("sis_id", "on", "expected"),
    [
        pytest.param("HS2", date(2026, 11, 2), False, id="opens-next-school-year"),
        pytest.param("HS2", date(2027, 8, 15), True, id="open-on-its-first-day"),
        pytest.param("HS2", date(2028, 1, 10), True, id="open-after-its-first-day"),
        pytest.param("ES1", date(2026, 11, 2), True, id="open-since-pilot"),
        pytest.param("MS9", date(2030, 1, 1), False, id="no-date-never-open"),
        pytest.param("XX1", date(2026, 11, 2), False, id="unknown-school"),
    ],
)
def test_tells_whether_a_school_is_enabled(
    rollout: RolloutPolicy, sis_id: str, on: date, expected: bool
) -> None:
    is_enabled = rollout.is_enabled(sis_id, on)

    assert is_enabled is expected


def test_policy_objects_cannot_be_changed() -> None:
    policies = load_policies(SHIPPED_POLICIES)

    with pytest.raises(FrozenInstanceError):
        policies.lifecycle.inactivity.disable_after_days = 1  # type: ignore[misc]  # frozen on purpose


def test_scope_table_cannot_be_changed(claims: ClaimsPolicy) -> None:
    scopes = claims.scopes

    with pytest.raises(TypeError):
        scopes["openid"] = ("sub", "email")  # type: ignore[index]  # Mapping is read-only


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "max_failures_per_minute = 10",
            "max_failures_per_minute = 0",
            "oidc.toml: client_authentication.max_failures_per_minute: "
            "Input should be greater than or equal to 1",
        ),
        (
            "grades = []\n",
            'grades = "all"\n',
            "oidc.toml: introspection.resource_servers.grades: Input should be a valid list",
        ),
    ],
    ids=["no-failures-allowed", "served-not-a-list"],
)
def test_refuses_malformed_oidc_security_sections(
    policy_dir: Path, old: str, new: str, expected: str
) -> None:
    replace_in(policy_dir / "oidc.toml", old, new)

    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir)

    assert str(caught.value) == expected


def test_introspection_is_for_listed_clients_and_the_tokens_they_serve(
    policy_dir: Path,
) -> None:
    introspection = load_policies(policy_dir).oidc.introspection

    assert introspection.may_introspect("district-reports", "grades")
    assert introspection.may_introspect("grades", "grades")
    assert not introspection.may_introspect("grades", "attendance")
    assert not introspection.may_introspect("library", "library")
    assert introspection.audience("attendance") == ["attendance", "district-reports"]
