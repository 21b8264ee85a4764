"""The staff console's forms (Flask-WTF: CSRF on every one).

Every action form carries `confirm`, a box the staff member ticks to say they mean it (and,
where it matters, that they checked the person's identity): a POST without it changes nothing.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from idp.web.i18n import LANGUAGES

REASON_MAX_LENGTH = 500
# The photo IDs the registration accepts (idp/registration/models.py ID_TYPES), as staff read them.
ID_TYPE_LABELS = {
    "drivers_license": _l("Driver's license"),
    "state_id": _l("State ID card"),
    "passport": _l("Passport"),
    "military_id": _l("Military ID"),
    "consular_id": _l("Consular ID"),
    "other": _l("Other government photo ID"),
}


class SearchForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    """Find a person: a GET form, so no CSRF token (nothing changes)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name, Person ID, student ID, username or email"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "type": "search"},
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """An action that needs only a confirmation."""

    confirm = BooleanField(
        _l("I confirm"),
        validators=[InputRequired(message=_l("Please tick the box to confirm."))],
    )


class ReasonForm(ConfirmForm):
    """An action whose reason goes into the audit trail (required)."""

    reason = TextAreaField(
        _l("Reason (kept in the audit trail)"),
        validators=[
            DataRequired(message=_l("Please give the reason.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class OptionalReasonForm(ConfirmForm):
    """An action where a reason may be given for the audit trail."""

    reason = TextAreaField(
        _l("Reason (optional, kept in the audit trail)"),
        validators=[Optional(), Length(max=REASON_MAX_LENGTH)],
    )


class IdentityCheckForm(ReasonForm):
    """An action after an in-person identity check."""

    confirm = BooleanField(
        _l("I checked this person's photo ID in person"),
        validators=[InputRequired(message=_l("Please tick the box to confirm."))],
    )


class RestrictionForm(ConfirmForm):
    """Restrict or lift a guardian's rights to one student: the legal document's reference."""

    reason = TextAreaField(
        _l("Legal document reference (court order number, date) and reason"),
        validators=[
            DataRequired(message=_l("Please give the legal document reference.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class ActivationKeyForm(FlaskForm):  # type: ignore[misc]
    """Issue an activation key after a photo-ID check, and the letter's language."""

    id_type = SelectField(
        _l("Photo ID you checked"),
        choices=[SelectChoice("", _l("Choose…"))]
        + [SelectChoice(code, label) for code, label in ID_TYPE_LABELS.items()],
        validators=[DataRequired(message=_l("Please choose the photo ID you checked."))],
    )
    lang = SelectField(
        _l("Language of the letter"),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()
        ],
    )
    confirm = BooleanField(
        _l("I checked this guardian's photo ID in person"),
        validators=[InputRequired(message=_l("Please tick the box to confirm."))],
    )


class StudentPasswordForm(ConfirmForm):
    """Set a student's district password."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Please choose a password.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )


class TrailFilterForm(FlaskForm):  # type: ignore[misc]
    """Narrow the audit trail: a GET form (nothing changes), so no CSRF token."""

    class Meta:
        csrf = False

    account_id = IntegerField(_l("Account number"), validators=[Optional()])
    event = StringField(
        _l("Event (a name, or its start such as staff:)"),
        validators=[Optional(), Length(max=100)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
