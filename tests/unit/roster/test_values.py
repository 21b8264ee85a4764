"""Single OneRoster values: one reading is accepted (maybe with a warning), two are refused."""

from __future__ import annotations

import pytest

from idp.roster.oneroster import values
from idp.roster.oneroster.values import BadValue


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", (True, None)),
        ("false", (False, None)),
        ("TRUE", (True, "case")),
        ("True", (True, "case")),
        ("FALSE", (False, "case")),
    ],
)
def test_boolean_accepts_any_letter_case_and_warns_when_not_lower_case(
    raw: str, expected: tuple[bool, str | None]
) -> None:
    assert values.boolean(raw) == expected


@pytest.mark.parametrize("raw", ["yes", "1", "0", "t", "ja"])
def test_boolean_refuses_values_that_are_not_true_or_false(raw: str) -> None:
    with pytest.raises(BadValue) as refused:
        values.boolean(raw)

    assert refused.value.code == "not_one_of"
    assert refused.value.params == {"value": raw, "allowed": "false, true"}


def test_iso_date_is_returned_as_written() -> None:
    assert values.iso_date("2016-04-17") == "2016-04-17"


@pytest.mark.parametrize(
    "raw", ["1/05/2023", "17/04/2016", "04/17/2016", "2016-4-17", "2016-02-30", "20160417", ""]
)
def test_iso_date_refuses_other_spellings_and_impossible_days(raw: str) -> None:
    with pytest.raises(BadValue) as refused:
        values.iso_date(raw)

    assert refused.value.code == "bad_date"


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        ("2023-05-01T18:25:43.511Z", None),
        ("2023-10-02T00:00:00+02:00", None),
        ("2023-05-01T18:25", None),
        ("2023-05-01", "date_only"),
    ],
)
def test_date_time_accepts_iso_8601_and_warns_on_a_bare_date(raw: str, warning: str | None) -> None:
    assert values.date_time(raw) == warning


@pytest.mark.parametrize("raw", ["1/05/2023", "15/06/2023", "2023-13-01T00:00:00Z", "yesterday"])
def test_date_time_refuses_ambiguous_or_impossible_values(raw: str) -> None:
    with pytest.raises(BadValue) as refused:
        values.date_time(raw)

    assert refused.value.code in {"bad_date", "bad_date_time"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ([], None)),
        ("a", (["a"], None)),
        ("a,b", (["a", "b"], None)),
        ("a, b", (["a", "b"], "spaces")),
    ],
)
def test_id_list_splits_on_commas_and_warns_about_spaces(
    raw: str, expected: tuple[list[str], str | None]
) -> None:
    assert values.id_list(raw) == expected


@pytest.mark.parametrize("raw", ["a,,b", "a,", ",a"])
def test_id_list_refuses_empty_items(raw: str) -> None:
    with pytest.raises(BadValue) as refused:
        values.id_list(raw)

    assert refused.value.code == "empty_list_item"


def test_one_of_reads_another_letter_case_with_a_warning() -> None:
    assert values.one_of("Student", ("student", "teacher")) == ("student", "case")
