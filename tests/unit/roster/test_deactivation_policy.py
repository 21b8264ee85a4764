"""`[roster] max_deactivation_share_percent` in rollout.toml: a whole percentage, 0 to 100."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idp.policy import PolicyError, RosterPolicy, load_policies

SHIPPED_POLICIES = Path(__file__).resolve().parents[3] / "policies"
SHIPPED_LINE = "max_deactivation_share_percent = 10\n"


def _policies_with(tmp_path: Path, line: str) -> Path:
    """A copy of the shipped policy files whose rollout.toml has `line` for the shipped one."""
    folder = Path(shutil.copytree(SHIPPED_POLICIES, tmp_path / "policies"))
    rollout = folder / "rollout.toml"
    text = rollout.read_text(encoding="utf-8")
    assert text.count(SHIPPED_LINE) == 1
    rollout.write_text(text.replace(SHIPPED_LINE, line), encoding="utf-8")
    return folder


def test_shipped_policy_allows_deactivating_ten_percent() -> None:
    policies = load_policies(SHIPPED_POLICIES)

    assert policies.rollout.roster.max_deactivation_share_percent == 10


@pytest.mark.parametrize("value", [0, 100])
def test_share_may_be_anything_from_0_to_100(tmp_path: Path, value: int) -> None:
    folder = _policies_with(tmp_path, f"max_deactivation_share_percent = {value}\n")

    policies = load_policies(folder)

    assert policies.rollout.roster.max_deactivation_share_percent == value


def test_share_left_out_is_ten_percent(tmp_path: Path) -> None:
    folder = _policies_with(tmp_path, "")

    policies = load_policies(folder)

    assert policies.rollout.roster.max_deactivation_share_percent == 10


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "Input should be greater than or equal to 0"),
        ("101", "Input should be less than or equal to 100"),
        ("12.5", "Input should be a valid integer"),
        ('"10"', "Input should be a valid integer"),
        ("true", "Input should be a valid integer"),
    ],
)
def test_share_outside_0_to_100_or_not_a_whole_number_stops_the_app(
    tmp_path: Path, value: str, reason: str
) -> None:
    folder = _policies_with(tmp_path, f"max_deactivation_share_percent = {value}\n")

    with pytest.raises(PolicyError) as refused:
        load_policies(folder)

    assert str(refused.value) == f"rollout.toml: roster.max_deactivation_share_percent: {reason}"


def test_tests_may_build_the_roster_policy_without_the_share() -> None:
    policy = RosterPolicy(
        person_id_column="identifier",
        is_parent_legal_guardian=True,
        is_guardian_legal_guardian=True,
    )

    assert policy.max_deactivation_share_percent == 10
