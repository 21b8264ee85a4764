"""Flask-WTF form of the IC bridge's upgrade page (CSRF on, as on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from idp.web.i18n import LANGUAGES


class UpgradeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    """Email and language; a username only when the IC one cannot be the portal username (the
    bridge decides, and says why)."""

    username = StringField(
        _l("Username"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(message=_l("Please enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    locale = SelectField(
        _l("Language for emails and pages"),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()
        ],
    )
