"""Security questions: chosen at first sign-in (before any app) and changed in Preferences."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.models import Account
from idp.errors import DomainError
from idp.extensions import limiter
from idp.web.credential_forms import SecurityQuestionsForm
from idp.web.deps import services
from idp.web.redirects import safe_next

bp = Blueprint("security_questions", __name__)

_CHOOSE = _l("Choose a question")

Page = Response | str | tuple[str, int]


@bp.route("/security-questions", methods=["GET", "POST"])
@bp.route("/preferences/security-questions", methods=["GET", "POST"], endpoint="change")
@limiter.limit("10/minute;50/hour", methods=["POST"])
def choose() -> Page:
    """Choose three questions and answer them; then go on to where the user was going."""
    if g.get("account") is None:
        return redirect(url_for("login.sign_in", next=request.full_path))
    questions = services().questions
    is_first_time = questions.is_required(g.account)
    form = SecurityQuestionsForm()
    choices = [("", str(_CHOOSE))] + [(key, str(text)) for key, text in questions.catalogue()]
    for question, _answer in form.pairs():
        question.choices = choices
    if not form.validate_on_submit():
        return _page(form, None, is_first_time)
    answers = {q.data: a.data or "" for q, a in form.pairs() if q.data}
    if len(answers) < len(form.pairs()):
        answers = {}  # a question left out or chosen twice: the service says so
    try:
        services().recovery.change_questions(g.account, form.password.data, answers)
    except DomainError as error:
        return _page(form, error, is_first_time), error.status
    if is_first_time:
        return redirect(safe_next(request.args.get("next")))
    return render_template("security_questions/saved.html")


def _page(form: SecurityQuestionsForm, error: DomainError | None, is_first_time: bool) -> str:
    return render_template(
        "security_questions/choose.html",
        form=form,
        error=error,
        is_first_time=is_first_time,
        count=services().questions.policy.count,
    )


def needs_security_questions(account: Account) -> bool:
    """True until this guardian has chosen questions. Whether they have is read with the
    request's SSO session (idp.web.setup), or the sign-in's account, in the same query."""
    return services().questions.is_required(account)


def gate() -> Response | None:
    """before_request: a guardian who has not chosen questions reaches no page until they have;
    the page they asked for comes after. The authorization endpoint decides for itself, so
    that prompt=none gets its spec error (interaction_required) instead of a page."""
    account = g.get("account")
    if account is None or request.endpoint in _OPEN_ENDPOINTS:
        return None
    if request.blueprint in _OPEN_BLUEPRINTS or not needs_security_questions(account):
        return None
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("security_questions.choose", next=target), code=303)


_OPEN_BLUEPRINTS = frozenset(
    {"security_questions", "oidc_endpoints", "health", "logout", "authorize"}
)
_OPEN_ENDPOINTS = frozenset({"static", "login.sign_out", "login.sign_in"})
