"""Flask-WTF forms of the password and security-question pages (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

_PASSWORD_AGAIN = _l("The two passwords are not the same.")


def _new_password() -> PasswordField:
    return PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Please choose a password.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )


def _new_password_again() -> PasswordField:
    return PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Please type your password again.")),
            EqualTo("new_password", message=_PASSWORD_AGAIN),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _current_password(label: object) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message=_l("Please type your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class SecurityQuestionsForm(FlaskForm):  # type: ignore[misc]
    """Three different questions and their answers, after typing the password again."""

    password = _current_password(_l("Your password"))
    question_1 = SelectField(_l("Question 1"))
    answer_1 = StringField(_l("Answer 1"), validators=[Length(max=200)])
    question_2 = SelectField(_l("Question 2"))
    answer_2 = StringField(_l("Answer 2"), validators=[Length(max=200)])
    question_3 = SelectField(_l("Question 3"))
    answer_3 = StringField(_l("Answer 3"), validators=[Length(max=200)])

    def pairs(self) -> list[tuple[SelectField, StringField]]:
        """The (question, answer) field pairs, in order."""
        return [
            (self.question_1, self.answer_1),
            (self.question_2, self.answer_2),
            (self.question_3, self.answer_3),
        ]


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    """Forgot password, step 0: the username."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(message=_l("Please enter your username.")), Length(max=100)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    """Forgot password, step 2: the proof of step 1 and the new password."""

    proof = HiddenField(validators=[DataRequired(), Length(max=512)])
    new_password = _new_password()
    new_password_again = _new_password_again()


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    """Preferences: the current password, then the new one twice."""

    current_password = _current_password(_l("Current password"))
    new_password = _new_password()
    new_password_again = _new_password_again()


class FirstPasswordForm(FlaskForm):  # type: ignore[misc]
    """A new staff account's first password, from the emailed link (its token is checked by
    the recovery service, from the form or the link's query)."""

    token = HiddenField(validators=[Length(max=512)])
    new_password = _new_password()
    new_password_again = _new_password_again()
