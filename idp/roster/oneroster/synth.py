"""A synthetic district as a consistent OneRoster 1.1 bulk export, for tests and benchmarks.

Households of 1 to 5 students (3 on average) with two guardians each, so N students come with
about 2N/3 guardians and exactly 2N relationships, declared on both sides (students and
guardians both list each other in agentSourcedIds). One school per 600 students, one homeroom
class per school, one enrolment per student, a birth date per student. Rows are written as
they are made (memory does not grow with N), and the same seed gives the same files.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from idp.roster.oneroster.spec import CLASSES, DEMOGRAPHICS, ENROLLMENTS, ORGS, USERS

STUDENTS_PER_SCHOOL = 600
_GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
_GIVEN = ("Ana", "Ben", "Chloe", "Dawit", "Elif", "Farah", "Gabriel", "Hana", "Ivan", "Jin")
_FAMILY = ("Nguyen", "Garcia", "Smith", "Hassan", "Kim", "Lopez", "Ali", "Brown", "Tran", "Diaz")
_EMPTY_12 = ("",) * 12
_SECOND_GUARDIAN = (("parent", 80), ("guardian", 12), ("relative", 8))
_MANIFEST = (
    ("manifest.version", "1.0"),
    ("oneroster.version", "1.1"),
    ("file.academicSessions", "absent"),
    ("file.categories", "absent"),
    ("file.classes", "bulk"),
    ("file.classResources", "absent"),
    ("file.courses", "absent"),
    ("file.courseResources", "absent"),
    ("file.demographics", "bulk"),
    ("file.enrollments", "bulk"),
    ("file.lineItems", "absent"),
    ("file.orgs", "bulk"),
    ("file.resources", "absent"),
    ("file.results", "absent"),
    ("file.users", "bulk"),
    ("source.systemName", "idp roster synth"),
)


@dataclass
class SynthSummary:
    """What was written."""

    schools: int = 0
    students: int = 0
    guardians: int = 0
    relationships: int = 0


class _Person(NamedTuple):
    sourced_id: str
    role: str
    person_id: str
    family: str
    phone: str


class _Writer:
    """The open files of one synthetic export and the random source that fills them."""

    def __init__(self, files: dict[str, Any], seed: int, school_count: int) -> None:
        self.files = files
        self.random = random.Random(seed)  # noqa: S311 - test data, reproducible by design
        self.district = self.sourced_id()
        self.schools = [self.sourced_id() for _ in range(school_count)]
        self.classes = [self.sourced_id() for _ in range(school_count)]
        self.summary = SynthSummary(schools=school_count)

    def sourced_id(self) -> str:
        """A random, reproducible UUID-shaped sourcedId."""
        digits = f"{self.random.getrandbits(128):032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def write_schools(self) -> None:
        """The district, its schools and one homeroom class per school."""
        orgs, classes = self.files["orgs"], self.files["classes"]
        orgs.writerow([self.district, "", "", "Synthetic District", "district", "SYN-D", ""])
        for number, (school, class_id) in enumerate(zip(self.schools, self.classes, strict=True)):
            name = f"Synthetic School {number + 1}"
            orgs.writerow([school, "", "", name, "school", f"SYN-{number + 1:04d}", self.district])
            homeroom = f"Homeroom {number + 1}"
            row = [class_id, "", "", homeroom, "", "", "", "homeroom", "", school]
            classes.writerow([*row, "", "", "", ""])

    def write_household(self, size: int) -> None:
        """Two guardians and `size` students who all list each other as agents."""
        family = self.random.choice(_FAMILY)
        guardians = [self.sourced_id(), self.sourced_id()]
        students = [self.sourced_id() for _ in range(size)]
        for guardian, kind in zip(guardians, ("parent", self._second_kind()), strict=True):
            self.summary.guardians += 1
            number = self.summary.guardians
            person = _Person(guardian, kind, f"G{number:07d}", family, f"555-{number % 10000:04d}")
            self._user(person, students, "", self.district)
        for student in students:
            self._student(student, family, guardians)
        self.summary.relationships += len(guardians) * size

    def _second_kind(self) -> str:
        kinds = [kind for kind, _ in _SECOND_GUARDIAN]
        weights = [weight for _, weight in _SECOND_GUARDIAN]
        return self.random.choices(kinds, weights)[0]

    def _student(self, student: str, family: str, guardians: list[str]) -> None:
        self.summary.students += 1
        grade_index = self.random.randrange(len(_GRADES))
        school_index = self.random.randrange(len(self.schools))
        school = self.schools[school_index]
        person = _Person(student, "student", f"S{self.summary.students:07d}", family, "")
        self._user(person, guardians, _GRADES[grade_index], school)
        class_id = self.classes[school_index]
        enrolment = [self.sourced_id(), "", "", class_id, school, student, "student", "false"]
        self.files["enrollments"].writerow([*enrolment, "", ""])
        born = date(2020 - grade_index, 9, 1) + timedelta(days=self.random.randrange(365))
        self.files["demographics"].writerow([student, "", "", born.isoformat(), *_EMPTY_12])

    def _user(self, person: _Person, agents: list[str], grade: str, org: str) -> None:
        given = self.random.choice(_GIVEN)
        login = person.person_id.lower()
        head = [person.sourced_id, "", "", "true", org, person.role, login, "", given]
        tail = [person.family, "", person.person_id, "", "", person.phone, ",".join(agents)]
        self.files["users"].writerow([*head, *tail, grade, ""])


def _household_sizes(source: random.Random, students: int) -> Iterator[int]:
    """Household sizes 1 to 5 in shuffled blocks: 3 students per household on average."""
    left = students
    while left > 0:
        block = [1, 2, 3, 4, 5]
        source.shuffle(block)
        for size in block:
            if left > 0:
                yield min(size, left)
                left -= size


def write_synthetic_district(out: Path, students: int, seed: int = 1) -> SynthSummary:
    """Write orgs, classes, users, enrollments, demographics and manifest CSVs into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    school_count = max(1, -(-students // STUDENTS_PER_SCHOOL))
    with ExitStack() as stack:
        files: dict[str, Any] = {}
        for spec in (ORGS, CLASSES, USERS, ENROLLMENTS, DEMOGRAPHICS):
            handle = stack.enter_context((out / spec.name).open("w", encoding="utf-8", newline=""))
            files[spec.key] = csv.writer(handle)
            files[spec.key].writerow(spec.columns["1.1"])
        writer = _Writer(files, seed, school_count)
        writer.write_schools()
        for size in _household_sizes(writer.random, students):
            writer.write_household(size)
    with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        manifest = csv.writer(handle)
        manifest.writerow(("propertyName", "value"))
        manifest.writerows(_MANIFEST)
    return writer.summary
