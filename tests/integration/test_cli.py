"""The `idp` command line: policies check, start-up errors, migrations both ways."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import inspect

from idp.config import PROJECT_ROOT
from idp.extensions import db

IDP = str(Path(sys.executable).parent / "idp")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    return subprocess.run(
        [IDP, *args], capture_output=True, text=True, env={**environ, **env}, timeout=120
    )


def test_policies_check_accepts_the_shipped_files(tmp_path: Path) -> None:
    result = _run(["policies", "check"], IDP_INSTANCE_PATH=str(tmp_path))

    assert result.returncode == 0
    assert "policies OK" in result.stdout


def test_policies_check_names_file_and_key_of_a_bad_value(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    path = policies / "lifecycle.toml"
    path.write_text(path.read_text().replace("delete_after_days = 396", "delete_after_days = 100"))

    result = _run(
        ["policies", "check"], IDP_INSTANCE_PATH=str(tmp_path), IDP_POLICY_DIR=str(policies)
    )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "idp: lifecycle.toml: inactivity.delete_after_days: must be greater than"
        " inactivity.disable_after_days (183)"
    )


def test_production_start_without_settings_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = _run(["db", "current"], IDP_ENV="production", IDP_INSTANCE_PATH=str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "idp: IDP_ENV=production needs IDP_SECRET_KEY, IDP_ISSUER, IDP_DATABASE_URL,"
        " IDP_KEY_ENCRYPTION_KEY, IDP_SMTP_HOST to be set"
    )


def test_db_upgrade_creates_the_schema_from_nothing(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], IDP_INSTANCE_PATH=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "idp.sqlite3").exists()


@pytest.mark.usefixtures("app")
def test_migrations_go_down_to_nothing_and_up_again(app: Flask) -> None:
    tables_before = set(inspect(db.engine).get_table_names())

    flask_migrate.downgrade(revision="base")
    tables_between = set(inspect(db.engine).get_table_names())
    flask_migrate.upgrade()

    assert tables_between <= {"alembic_version"}
    assert set(inspect(db.engine).get_table_names()) == tables_before


@pytest.fixture(scope="module")
def migrated_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development instance (SQLite) migrated by the real `idp db upgrade`."""
    instance = tmp_path_factory.mktemp("instance")
    result = _run(["db", "upgrade"], IDP_INSTANCE_PATH=str(instance))
    assert result.returncode == 0, result.stderr
    return instance


@pytest.mark.parametrize(
    ("args", "returncode", "expected"),
    [
        (["lifecycle", "sweep", "--as-of", "2027-11-28", "--dry-run"], 0, "dry run (nothing"),
        (["accounts", "cancel", "--username", "nobody123", "--staff", "x", "--reason", "r"], 1,
         "idp: account_not_found"),
        (["students", "status", "--student-id", "S-NONE"], 1, "idp: "),
        (["bridge", "status", "--person-id", "P-NONE"], 1, "idp: bridge_person_not_found"),
        (["roster", "restrict", "--guardian", "G", "--student", "S", "--staff", "x", "--reason",
          "r"], 1, "idp: relationship_not_found"),
        (["activation", "issue", "--person-id", "P-NONE", "--staff", "x", "--id-type",
          "passport"], 1, "idp: person_not_found"),
        (["signing-keys", "list"], 0, "unpublished-after"),
        (["staff", "list"], 0, "no staff roles"),
        (["staff", "grant", "--username", "nobody123", "--role", "district_admin"], 1,
         "idp: staff_account_not_found"),
        (["clients", "list"], 0, ""),
    ],
)  # fmt: skip
def test_every_command_group_runs_in_the_real_entry_point(
    migrated_instance: Path, args: list[str], returncode: int, expected: str
) -> None:
    result = _run(args, IDP_INSTANCE_PATH=str(migrated_instance))

    assert "Traceback" not in result.stderr
    assert result.returncode == returncode, result.stderr
    assert expected in result.stdout + result.stderr
