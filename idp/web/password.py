"""Forgot password (link -> questions -> new password) and change password (Preferences)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import LazyString
from werkzeug.wrappers import Response

from idp.errors import DomainError
from idp.extensions import limiter
from idp.web.credential_forms import (
    ChangePasswordForm,
    FirstPasswordForm,
    ForgotPasswordForm,
    NewPasswordForm,
)
from idp.web.deps import services, settings
from idp.web.forms import EmptyForm

bp = Blueprint("password", __name__)

# Links carry their token in the query string; these pages send no Referer (see register.py).
NO_REFERRER = {"Referrer-Policy": "no-referrer"}

Page = Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]


def _render(template: str, **context: object) -> str:
    """A page with a new-password field: its hint names the policy's minimum length."""
    minimum = services().policies.credentials.passwords.min_length
    return render_template(template, password_min=minimum, **context)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def forgot() -> Page:
    """Username -> an emailed link. The answer is the same whether or not the name exists."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("password/forgot.html", form=form)
    services().recovery.request_reset(form.username.data)
    minutes = services().policies.lifecycle.recovery.reset_link_minutes
    return render_template(
        "password/link_sent.html", sender=settings().smtp.sender, minutes=minutes
    )


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("10/minute;40/hour", methods=["POST"])
def answer_questions() -> Page:
    """Step 1 of the link: the security questions, in a random order."""
    token = request.values.get("token", "")[:512]
    recovery = services().recovery
    try:
        account = recovery.open_link(token)
    except DomainError as error:
        return render_template("password/link_problem.html", error=error), error.status, NO_REFERRER
    form = EmptyForm()
    if not form.validate_on_submit():
        questions = recovery.questions_for(account)
        return _questions_page(form, token, questions, None), 200, NO_REFERRER
    answers = {key: value for key, value in request.form.items() if key.startswith("answer_")}
    answers = {key.removeprefix("answer_"): value[:200] for key, value in answers.items()}
    try:
        proof = recovery.check_answers(token, answers)
    except DomainError as error:
        questions = recovery.questions_for(account)
        return _questions_page(form, token, questions, error), error.status, NO_REFERRER
    page = _render("password/new_password.html", form=NewPasswordForm(proof=proof))
    return page, 200, NO_REFERRER


def _questions_page(
    form: EmptyForm, token: str, questions: list[tuple[str, LazyString]], error: DomainError | None
) -> str:
    return render_template(
        "password/questions.html", form=form, token=token, questions=questions, error=error
    )


@bp.route("/reset-password/new", methods=["POST"])
@limiter.limit("10/minute;40/hour")
def new_password() -> Page:
    """Step 2: the new password; every session and app token of the account ends."""
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return _render("password/new_password.html", form=form), 200, NO_REFERRER
    try:
        services().recovery.reset_password(form.proof.data, form.new_password.data)
    except DomainError as error:
        page = _render("password/new_password.html", form=form, error=error)
        return page, error.status, NO_REFERRER
    return render_template("password/reset_done.html"), 200, NO_REFERRER


@bp.route("/preferences/password", methods=["GET", "POST"])
@limiter.limit("10/minute;50/hour", methods=["POST"])
def change() -> Page:
    """Change password: the current one, then the new one; other sessions are signed out."""
    if g.get("account") is None:
        return redirect(url_for("login.sign_in", next=request.full_path))
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _render("password/change.html", form=form, error=None)
    try:
        services().recovery.change_password(
            g.account, form.current_password.data, form.new_password.data, session.get("sid")
        )
    except DomainError as error:
        return _render("password/change.html", form=form, error=error), error.status
    return render_template(
        "password/change.html", form=ChangePasswordForm(formdata=None), is_saved=True, error=None
    )


@bp.route("/set-password", methods=["GET", "POST"])
@limiter.limit("10/minute;40/hour", methods=["POST"])
def set_first_password() -> Page:
    """A new staff account's emailed link: choose the first password (the link then stops
    working); the sign-in that follows sets up the authenticator app."""
    form = FirstPasswordForm()
    token = (request.values.get("token") or "")[:512]
    recovery = services().recovery
    try:
        account = recovery.open_set_password_link(token)
    except DomainError as error:
        page = render_template("password/link_problem.html", error=error, is_staff_link=True)
        return page, error.status, NO_REFERRER
    if request.method == "GET" or not form.validate_on_submit():
        form.token.data = token
        page = _render("password/first_password.html", form=form, username=account.username)
        return page, 200, NO_REFERRER
    try:
        recovery.set_first_password(token, form.new_password.data)
    except DomainError as error:
        page = _render(
            "password/first_password.html", form=form, username=account.username, error=error
        )
        return page, error.status, NO_REFERRER
    return render_template("password/first_password_set.html"), 200, NO_REFERRER
