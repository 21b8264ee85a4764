"""OneRoster 1.1 / 1.2 CSV import of schools, students, guardians, enrolments and birth dates.

`RosterImporter.run(path)` reads a folder or ZIP in one transaction and returns an
`ImportReport`; `synth.write_synthetic_district` writes a consistent district of any size.
"""

from idp.roster.oneroster.importer import Progress, ProgressCallback, RosterImporter
from idp.roster.oneroster.report import EntityCounts, ImportReport, Problem

__all__ = [
    "EntityCounts",
    "ImportReport",
    "Problem",
    "Progress",
    "ProgressCallback",
    "RosterImporter",
]
