"""Flask-WTF forms (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from idp.accounts.preferences import CHANNEL_LABELS
from idp.web.i18n import LANGUAGES


class SignInForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type information
    """Username and password (guardians, staff; IC users later through the bridge)."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(message=_l("Please enter your username.")), Length(max=100)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class SignOutForm(FlaskForm):  # type: ignore[misc]
    """An empty form: sign-out is a POST with a CSRF token."""


class ActivationForm(FlaskForm):  # type: ignore[misc]
    """Registration step 1: the Person ID and activation key from the school's letter."""

    person_id = StringField(
        _l("Person ID"),
        validators=[DataRequired(message=_l("Please enter your Person ID.")), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"},
    )
    activation_key = StringField(
        _l("Activation key"),
        validators=[
            DataRequired(message=_l("Please enter the activation key from your letter.")),
            Length(max=64),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"},
    )


class RegistrationForm(FlaskForm):  # type: ignore[misc]
    """Registration step 2: username, password, email and language."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(message=_l("Please choose a username.")), Length(max=100)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please choose a password.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(message=_l("Please type your password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
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


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A button that posts (resend a link): only the CSRF token."""


class TokenForm(FlaskForm):  # type: ignore[misc]
    """A button that posts an emailed link's token back (ask for a new link)."""

    token = HiddenField(validators=[DataRequired(), Length(max=512)])


class ForgotUsernameForm(FlaskForm):  # type: ignore[misc]
    """Forgot username: the email address of the account."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(message=_l("Please enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]  # WTForms ships no types
    """A list of checkboxes; several may be ticked."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    """Preferences: how and about what the school contacts the person, and the language.

    The account service checks the values (and says what is wrong in the user's language), so
    the fields do not: an unknown choice reaches it. The view sets the topic choices from policy.
    """

    channel = RadioField(
        _l("How should the school contact you?"),
        choices=[SelectChoice(channel, label) for channel, label in CHANNEL_LABELS.items()],
        validate_choice=False,
    )
    topics = MultiCheckboxField(
        _l("What should the school contact you about?"), choices=[], validate_choice=False
    )
    locale = SelectField(
        _l("Language for emails and pages"),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()
        ],
        validate_choice=False,
    )
