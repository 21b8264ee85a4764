"""Student sign-in page (/sign-in/student): student ID and date of birth, or a district password.

No username and no email: students sign in with what the SIS roster knows about them. After a
success the browser session starts as for any sign-in, so an app's authorization request goes
on (`next`) and single sign-on works.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import limiter
from idp.oidc.authorize import ACR_PASSWORD, ACR_STUDENT_BIRTHDATE
from idp.policy import DISTRICT_PASSWORD, STUDENT_ID_BIRTHDATE
from idp.web.deps import services
from idp.web.login import start_browser_session
from idp.web.sign_in_page import app_name

bp = Blueprint("student_login", __name__)

# RFC 8176 2: "kba" is knowledge-based authentication (facts such as a date of birth).
_METHODS = {
    STUDENT_ID_BIRTHDATE: (["kba"], ACR_STUDENT_BIRTHDATE),
    DISTRICT_PASSWORD: (["pwd"], ACR_PASSWORD),
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_FORMAT = _l("Please enter your date of birth as year-month-day, for example 2012-03-14.")
# Classroom computers are shared: the browser must not offer one student's ID to the next.
_NO_AUTOFILL = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}

Page = Response | str | tuple[str, int]


def _parsed_date(value: str) -> date | None:
    """yyyy-mm-dd as a date; None if it is not that form or not a day of the calendar."""
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _iso_date(form: FlaskForm, field: Field) -> None:
    """`<input type=date>` posts ISO 8601 (yyyy-mm-dd); a browser without it, what is typed."""
    if _parsed_date((field.data or "").strip()) is None:
        raise ValidationError(str(_DATE_FORMAT))


def _student_id_field() -> StringField:
    return StringField(
        _l("Student ID"),
        validators=[DataRequired(message=_l("Please enter your student ID.")), Length(max=64)],
        render_kw=_NO_AUTOFILL,
    )


class StudentBirthDateForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """students.login = "student_id_birthdate"."""

    student_id = _student_id_field()
    birth_date = StringField(
        _l("Date of birth"),
        validators=[DataRequired(message=_l("Please enter your date of birth.")), _iso_date],
        widget=DateInput(),
        render_kw={"autocomplete": "off"},
    )

    def credentials(self) -> StudentCredentials:
        """What the student typed, parsed."""
        born = _parsed_date(self.birth_date.data.strip())
        return StudentCredentials(student_id=self.student_id.data, birth_date=born)


class StudentPasswordForm(FlaskForm):  # type: ignore[misc]
    """students.login = "district_password"."""

    student_id = _student_id_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )

    def credentials(self) -> StudentCredentials:
        """What the student typed."""
        return StudentCredentials(student_id=self.student_id.data, password=self.password.data)


_FORMS: dict[str, type[StudentBirthDateForm | StudentPasswordForm]] = {
    STUDENT_ID_BIRTHDATE: StudentBirthDateForm,
    DISTRICT_PASSWORD: StudentPasswordForm,
}


def _ip_limit() -> str:
    return services().policies.accounts.students.ip_limit


def _is_failure(response: Response) -> bool:
    # Only failed attempts count against the IP: a class signing in from one school network
    # address is not slowed down (accounts.toml students.ip_failures_per_*).
    return response.status_code in (401, 429)


@bp.route("/sign-in/student", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"], deduct_when=_is_failure)
def sign_in() -> Page:
    """Show the form; on POST check the student's credentials and start a fresh session."""
    service = services().student_sign_in
    form = _FORMS[service.login]()
    if not form.validate_on_submit():
        return _page(form, None)
    try:
        account = service.sign_in(form.credentials(), locale=str(get_locale() or "en"))
    except DomainError as error:
        return _page(form, error), error.status
    amr, acr = _METHODS[service.login]
    return start_browser_session(account, amr=amr, acr=acr)


def _page(form: Any, error: DomainError | None) -> str:
    return render_template(
        "student_login/sign_in.html",
        form=form,
        error=error,
        is_birth_date=isinstance(form, StudentBirthDateForm),
        app_name=app_name(request.args.get("next")),
    )
