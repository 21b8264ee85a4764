"""The import report's sentences: one translatable text per problem code (operators read them).

Errors stop the import; warnings describe a value that was read in its only possible meaning.
Every placeholder is named; `render` fills them in the current locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString, lazy_gettext

ERRORS: Mapping[str, LazyString] = {
    "manifest_missing": lazy_gettext(
        "manifest.csv is missing. It says which files the export holds and whether each is"
        " bulk or delta."
    ),
    "no_import": lazy_gettext("No OneRoster files were found at %(path)s."),
    "bad_version": lazy_gettext(
        "OneRoster version '%(value)s' is not supported. Export version 1.1 or 1.2."
    ),
    "bad_mode": lazy_gettext("'%(value)s' is not bulk, delta or absent."),
    "file_missing": lazy_gettext(
        "manifest.csv lists %(file)s as %(mode)s, but the file is not in the import."
    ),
    "not_in_manifest": lazy_gettext(
        "%(file)s is in the import but manifest.csv has no file.%(key)s line."
    ),
    "roles_missing": lazy_gettext(
        "A OneRoster 1.2 users.csv needs roles.csv: that is where each user's role is."
    ),
    "unreadable": lazy_gettext("The file cannot be read as UTF-8 CSV text (%(reason)s)."),
    "empty_file": lazy_gettext("The file is empty: it needs at least its header line."),
    "unknown_column": lazy_gettext(
        "Unknown column. It is not part of OneRoster %(version)s %(file)s; extension columns"
        " must start with metadata."
    ),
    "unnamed_column": lazy_gettext("Column %(number)s of the header has no name."),
    "duplicate_column": lazy_gettext("This column appears twice in the header."),
    "missing_column": lazy_gettext("This required column is missing from the header."),
    "field_count": lazy_gettext(
        "The line has %(found)s values but the header has %(expected)s columns."
    ),
    "required_value": lazy_gettext("A value is required here."),
    "missing_person_id": lazy_gettext(
        "The SIS Person ID is empty. Every student and guardian needs one: the IdP"
        " recognises people by it."
    ),
    "too_long": lazy_gettext("The value has %(length)s characters; at most %(limit)s are allowed."),
    "not_one_of": lazy_gettext("'%(value)s' is not allowed here. Use one of: %(allowed)s."),
    "bad_date": lazy_gettext(
        "'%(value)s' is not a date written YYYY-MM-DD (a date like 1/05/2023 could mean"
        " January 5 or May 1)."
    ),
    "bad_date_time": lazy_gettext(
        "'%(value)s' is not an ISO 8601 date and time such as 2024-08-15T08:00:00Z."
    ),
    "empty_list_item": lazy_gettext("'%(value)s' has an empty item between its commas."),
    "self_agent": lazy_gettext("The user names themselves among their own agents."),
    "school_identifier": lazy_gettext(
        "The school has no identifier. The IdP matches schools by this SIS school id."
    ),
    "unknown_org": lazy_gettext("No org has the sourcedId '%(value)s'."),
    "not_a_school": lazy_gettext(
        "Org '%(value)s' is a %(type)s, not a school, and no class of this line names a school."
    ),
    "duplicate_sourced_id": lazy_gettext(
        "sourcedId '%(value)s' is used again: it is already on line %(first_line)s."
    ),
    "duplicate_person_id": lazy_gettext(
        "SIS Person ID '%(value)s' is used again: it is already on line %(first_line)s."
    ),
    "duplicate_org_id": lazy_gettext(
        "School identifier '%(value)s' is used again: it is already on line %(first_line)s."
    ),
    "no_role": lazy_gettext("User '%(value)s' has no role in roles.csv."),
    "unknown_user": lazy_gettext(
        "No user has the sourcedId '%(value)s' in users.csv or in an earlier import."
    ),
    "not_a_student": lazy_gettext("User '%(value)s' is a %(role)s in users.csv, not a student."),
    "agents_same_kind": lazy_gettext(
        "User '%(value)s' is a %(role)s as well. Agents link a student to a parent, guardian"
        " or relative."
    ),
    "unknown_kind": lazy_gettext(
        "User '%(value)s' is not in this users.csv and has no relationship yet, so it is not"
        " known whether they are a parent, guardian or relative. Add them to users.csv."
    ),
    "database": lazy_gettext("The database refused the import (%(reason)s). Nothing was changed."),
    "nul_character": lazy_gettext(
        "The value contains a NUL character (byte 0x00), which CSV text never holds. Check that"
        " the file was exported as UTF-8 text."
    ),
    "line_too_long": lazy_gettext(
        "The line is longer than %(limit)s bytes, far longer than any OneRoster line; the file"
        " was read no further. Check that this is the CSV file of a OneRoster export."
    ),
    "bad_archive": lazy_gettext(
        "This is neither a folder nor a ZIP archive that can be opened (%(reason)s). Give the"
        " export's folder or its .zip file; if this is the .zip, download or export it again."
    ),
    "damaged_member": lazy_gettext(
        "%(member)s cannot be unpacked: the ZIP archive is damaged (%(reason)s). Download or"
        " export it again."
    ),
    "encrypted_member": lazy_gettext(
        "%(member)s is encrypted in the ZIP archive. Export the files again without a password."
    ),
    "compression_method": lazy_gettext(
        "%(member)s is packed with ZIP compression method %(method)s, which the IdP does not"
        " unpack. Make the ZIP archive with the usual Deflate method, or import the unpacked"
        " folder."
    ),
    "member_too_large": lazy_gettext(
        "%(member)s unpacks to more than %(limit)s bytes, the most the IdP unpacks from one"
        " file of a ZIP archive. Check that this is a OneRoster export; a larger file can be"
        " imported from the unpacked folder."
    ),
    "archive_too_large": lazy_gettext(
        "The files of this ZIP archive unpack to more than %(limit)s bytes in all, the most the"
        " IdP unpacks from one archive. Check that this is a OneRoster export; larger files can"
        " be imported from the unpacked folder."
    ),
    "mass_deactivation_persons": lazy_gettext(
        "This import would deactivate %(count)s of the %(total)s active students and guardians"
        " (%(percent)s%%), more than the %(limit)s%% that rollout.toml allows"
        " (roster.max_deactivation_share_percent). Check that the export is this district's"
        " and complete; to import it anyway, run the import again with"
        " --allow-mass-deactivation."
    ),
    "mass_deactivation_relationships": lazy_gettext(
        "This import would deactivate %(count)s of the %(total)s active guardian-student"
        " relationships (%(percent)s%%), more than the %(limit)s%% that rollout.toml allows"
        " (roster.max_deactivation_share_percent). Check that the export is this district's"
        " and complete; to import it anyway, run the import again with"
        " --allow-mass-deactivation."
    ),
}

WARNINGS: Mapping[str, LazyString] = {
    "bom": lazy_gettext("The file starts with a byte order mark; it was skipped."),
    "case": lazy_gettext(
        "'%(value)s' was read as '%(canonical)s' (OneRoster values are case-sensitive)."
    ),
    "spaces": lazy_gettext("Spaces around '%(value)s' were removed."),
    "date_only": lazy_gettext(
        "'%(value)s' has no time of day; it was read as that date (ISO 8601 asks for a date"
        " and time)."
    ),
    "bulk_filled": lazy_gettext(
        "A bulk file should leave this column empty; the value was read as given."
    ),
    "optional_column": lazy_gettext(
        "This OneRoster column is missing from the header; it was read as empty."
    ),
    "absent_but_present": lazy_gettext("manifest.csv says absent, so this file was not read."),
    "unread_mode": lazy_gettext(
        "'%(value)s' is not bulk, delta or absent; the IdP does not read this file, so it"
        " was ignored."
    ),
    "staff_agent": lazy_gettext(
        "User '%(value)s' is a %(role)s: links to staff are not guardian relationships and"
        " were ignored."
    ),
    "unknown_org_delta": lazy_gettext(
        "Org '%(value)s' is neither in this orgs.csv nor a known school; it was ignored."
    ),
}


def render(template: LazyString, params: Mapping[str, Any]) -> str:
    """The template in the current locale with its named placeholders filled in."""
    text = str(template)
    return text % params if params else text
