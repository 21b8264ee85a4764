"""Preferences: how and about what the school contacts a person, the language, their details."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from idp.accounts.errors import PreferenceError
from idp.accounts.preferences import TOPIC_LABELS
from idp.accounts.service import Preferences
from idp.web.deps import current_account, services
from idp.web.forms import PreferencesForm

bp = Blueprint("preferences", __name__)

SAVED = "preferences_saved"  # set by a successful POST; the next GET says so once

Page = Response | str | tuple[str, int]


@bp.route("/preferences", methods=["GET", "POST"])
def index() -> Page:
    """The Preferences page; POST saves, then shows the page again (in the chosen language)."""
    account = current_account()
    if account is None:
        return redirect(url_for("login.sign_in", next=request.full_path.rstrip("?")))
    saved = services().accounts.preferences(account)
    form = _form(saved)
    if not form.validate_on_submit():
        return _page(saved, form, None)
    try:
        services().accounts.update_preferences(
            account, form.channel.data or "", form.topics.data or [], form.locale.data or ""
        )
    except PreferenceError as error:
        return _page(saved, form, error), error.status
    # Signed out later, the pages stay in the chosen language.
    session["lang"] = account.locale
    session[SAVED] = True
    # Post/Redirect/Get: the next page is rendered in the new language.
    return redirect(url_for("preferences.index"), code=303)


def _form(saved: Preferences) -> PreferencesForm:
    """The form, filled with the saved choices (a POST's values take their place)."""
    form = PreferencesForm(
        data={"channel": saved.channel, "topics": list(saved.topics), "locale": saved.locale}
    )
    form.topics.choices = [
        SelectChoice(topic, TOPIC_LABELS[topic]) for topic in saved.topics_offered
    ]
    return form


def _page(saved: Preferences, form: PreferencesForm, error: PreferenceError | None) -> str:
    return render_template(
        "preferences/index.html",
        form=form,
        error=error,
        saved=saved,
        is_saved=error is None and session.pop(SAVED, False),
    )
