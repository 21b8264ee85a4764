"""The synthetic district: consistent, reproducible, 2 guardians per 3 students."""

from __future__ import annotations

import csv
from pathlib import Path

from idp.roster.oneroster.synth import SynthSummary, write_synthetic_district


def _users(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "users.csv").open(encoding="utf-8", newline="") as handle:
        return {row["sourcedId"]: row for row in csv.DictReader(handle)}


def test_sizes_follow_the_household_model(tmp_path: Path) -> None:
    summary = write_synthetic_district(tmp_path, 1500, seed=3)

    assert summary == SynthSummary(schools=3, students=1500, guardians=1000, relationships=3000)
    assert len(_users(tmp_path)) == 2500


def test_every_agent_exists_and_lists_the_user_back(tmp_path: Path) -> None:
    write_synthetic_district(tmp_path, 150, seed=4)
    users = _users(tmp_path)

    pairs = {
        (row["sourcedId"], agent)
        for row in users.values()
        for agent in row["agentSourcedIds"].split(",")
    }

    assert all(agent in users for _, agent in pairs)
    assert all((agent, user) in pairs for user, agent in pairs)
    assert {users[user]["role"] for user, _ in pairs} == {
        "student",
        "parent",
        "guardian",
        "relative",
    }


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        write_synthetic_district(tmp_path / name, 60, seed=seed)

    users = {name: (tmp_path / name / "users.csv").read_bytes() for name in "abc"}

    assert users["a"] == users["b"]
    assert users["a"] != users["c"]
