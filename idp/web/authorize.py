"""The authorization endpoint: validate everything first, then sign-in, consent, or a code."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from idp.extensions import csrf
from idp.oidc.authorize import (
    AuthorizeFacts,
    Next,
    decide,
    parse_claims_request,
    parse_max_age,
)
from idp.oidc.server import SignInContext
from idp.oidc.sessions import StartedSession
from idp.web.deps import clock, oidc, services
from idp.web.i18n import LANGUAGES
from idp.web.security_questions import needs_security_questions
from idp.web.sign_in_page import sign_in_page

bp = Blueprint("authorize", __name__)

# Plain words per scope on the consent page.
SCOPE_DESCRIPTIONS = {
    "openid": _l("Know who you are when you sign in"),
    "profile": _l("Your name, username, language and role"),
    "email": _l("Your email address"),
    "students": _l("Which of your children you may see: their names, birth dates, schools"),
    "notifications": _l("How and about what the school may contact you"),
    "offline_access": _l("Stay connected when you are not using it"),
}
_SILENT_ERRORS = {
    Next.LOGIN_REQUIRED: LoginRequiredError,
    Next.CONSENT_REQUIRED: ConsentRequiredError,
    Next.INTERACTION_REQUIRED: InteractionRequiredError,
}
# prompt=login / max_age: the sign-in page is sent back here with this signed marker ("a
# sign-in after `after` satisfies request `request`"). Not in the session: signing in clears
# and rotates the session (no fixation), which would lose it and loop back to the sign-in.
_REAUTH = "portal_reauth"


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {
        key: value
        for key, value in source.items()
        if key not in ("csrf_token", "decision", _REAUTH)
    }


def _reauth_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="idp.authorize.reauth")


def _reauth_marker(raw: str | None) -> dict[str, Any]:
    """The signed re-authentication marker of this request; {} if absent or forged."""
    if not raw:
        return {}
    try:
        marker = _reauth_signer().loads(raw)
    except BadSignature:
        return {}
    return marker if isinstance(marker, dict) else {}


def _request_key(params: dict[str, str]) -> str:
    return hashlib.sha256(urlencode(sorted(params.items())).encode()).hexdigest()


def _error_page(error: OAuth2Error) -> tuple[str, int]:
    """An error we may not redirect (unknown client, unregistered redirect_uri): a page."""
    return render_template(
        "authorize/error.html", error=error.error, description=error.get_error_description()
    ), 400


def _respond_error(error: OAuth2Error) -> Response | tuple[str, int]:
    if not getattr(error, "redirect_uri", None):
        return _error_page(error)
    return oidc().authorization_error_response(error)


def _apply_ui_locales(params: dict[str, str]) -> None:
    for locale in params.get("ui_locales", "").split():
        language = locale.split("-")[0].lower()
        if language in LANGUAGES:
            session["lang"] = language
            return


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    """OIDC authorization endpoint."""
    params = _params()
    _apply_ui_locales(params)
    account, sso = g.get("account"), g.get("sso")
    marker = (request.form if request.method == "POST" else request.args).get(_REAUTH)
    checked = _check(params, marker, account, sso)
    if not isinstance(checked, _Checked):
        return checked  # the request itself is wrong: an error page or error redirect
    grant, step = checked
    if step in _SILENT_ERRORS:
        return _respond_error(
            _SILENT_ERRORS[step](redirect_uri=grant.redirect_uri, state=params.get("state"))
        )
    if step == Next.SIGN_IN:
        return _to_sign_in(params)
    if step == Next.SETUP:
        back = url_for("authorize.authorize") + "?" + urlencode(params)
        return redirect(url_for("security_questions.choose", next=back))
    if step == Next.CONSENT:
        return _consent(params, grant)
    return _issue_code(grant, account, sso, params)


def resume_after_sign_in(next_url: str, account: Any, sso: StartedSession) -> Response | None:
    """Finish, right after the sign-in it asked for, an authorization request that now needs
    nothing but its code: the browser goes straight back to the app, one round trip fewer.

    The request is checked and decided exactly as /authorize does (same `_check`). Anything
    but a code (consent, security questions, an error, a request /authorize would not parse
    the same way) gives None, and the browser is sent back to /authorize as before."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != url_for("authorize.authorize"):
        return None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        return None  # a repeated parameter: /authorize refuses it with its own answer
    marker = query.pop(_REAUTH, None)
    params = {key: value for key, value in query.items() if key not in ("csrf_token", "decision")}
    if services().questions.is_required(account):
        return None  # a first sign-in: security questions come first (Next.SETUP)
    _apply_ui_locales(params)
    checked = _check(params, marker, account, sso, _oauth_request(params))
    if not isinstance(checked, _Checked) or checked.step != Next.ISSUE:
        return None
    # Committed with the new browser session, in the request's one transaction.
    return _issue_code(checked.grant, account, sso, params)


def _oauth_request(params: dict[str, str]) -> OAuth2Request:
    """`params` as the GET /authorize request Authlib would have read from the browser."""
    uri = url_for("authorize.authorize", _external=True) + "?" + urlencode(params)
    oauth_request = OAuth2Request("GET", uri)
    oauth_request.payload = BasicOAuth2Payload(params)
    return oauth_request


def _check(
    params: dict[str, str],
    marker: str | None,
    account: Any,
    sso: Any,
    oauth_request: OAuth2Request | None = None,
) -> _Checked | Response | tuple[str, int]:
    """Validate the whole request (before any page is shown), then decide the next step;
    or the answer to a request that is wrong (an error page or an error redirect)."""
    try:
        grant = oidc().get_consent_grant(request=oauth_request, end_user=account)
        if params.get("response_mode", "query") != "query":
            raise _invalid("Only response_mode=query is supported.", grant)
        max_age = _max_age(params, grant)
        _claims_request(params, grant)  # validated before any page is shown
        hinted_sub = _hinted_subject(params, grant)
    except OAuth2Error as error:
        return _respond_error(error)
    facts = _facts(params, marker, grant, account, sso, max_age)
    if hinted_sub is not None and account is not None and hinted_sub != account.sub:
        facts = replace(facts, is_other_person_hinted=True)
    return _Checked(grant, decide(facts))


class _Checked(NamedTuple):
    """A valid authorization request (Authlib's grant) and its next step."""

    grant: Any
    step: Next


def _invalid(description: str, grant: Any) -> OAuth2Error:
    return InvalidRequestError(
        description, redirect_uri=grant.redirect_uri, state=grant.request.payload.state
    )


def _hinted_subject(params: dict[str, str], grant: Any) -> str | None:
    """`sub` of a valid id_token_hint of ours (expired is fine: it is only a hint)."""
    hint = params.get("id_token_hint")
    if not hint:
        return None
    try:
        token = jwt.decode(hint, services().keys.public_key_set())
    except JoseError:
        raise _invalid("'id_token_hint' is not an ID token of this provider.", grant) from None
    sub = token.claims.get("sub")
    return str(sub) if sub else None


def _claims_request(params: dict[str, str], grant: Any) -> dict[str, list[str]] | None:
    try:
        return parse_claims_request(params.get("claims"))
    except ValueError:
        raise _invalid("'claims' must be a JSON object (OIDC Core 5.5).", grant) from None


def _max_age(params: dict[str, str], grant: Any) -> int | None:
    try:
        return parse_max_age(params.get("max_age"))
    except ValueError:
        raise _invalid("'max_age' must be a non-negative integer.", grant) from None


def _facts(
    params: dict[str, str],
    marker: str | None,
    grant: Any,
    account: Any,
    sso: Any,
    max_age: int | None,
) -> AuthorizeFacts:
    reauth = _reauth_marker(marker)
    auth_time: datetime | None = sso.auth_time if sso is not None else None
    reauthenticated = bool(
        auth_time is not None
        and reauth.get("request") == _request_key(params)
        and auth_time.timestamp() >= float(reauth.get("after", 0))
    )
    client = grant.request.client
    scope = grant.request.scope or ""
    # First-party apps never ask, so their consent is not looked up (hot path).
    has_consent = (
        account is not None
        and not client.is_first_party
        and services().consent.has_consent(account.id, client.client_id, scope)
    )
    return AuthorizeFacts(
        prompts=frozenset(params.get("prompt", "").split()),
        max_age_seconds=max_age,
        auth_time=auth_time,
        now=clock().now(),
        reauthenticated=reauthenticated,
        is_first_party=client.is_first_party,
        has_consent=has_consent,
        needs_setup=account is not None and needs_security_questions(account),
    )


def _to_sign_in(params: dict[str, str]) -> str:
    """The sign-in form, which sends the person back to this very request (as a GET)."""
    prompts = params.get("prompt", "").split()
    back_params = dict(params)
    if "login" in prompts or params.get("max_age"):
        back_params[_REAUTH] = _reauth_signer().dumps(
            {"request": _request_key(params), "after": clock().now().timestamp()}
        )
    back = url_for("authorize.authorize") + "?" + urlencode(back_params)
    return sign_in_page(None, back, params.get("login_hint"))


def _consent(params: dict[str, str], grant: Any) -> Any:
    client = grant.request.client
    if request.method == "POST" and "decision" in request.form:
        csrf.protect()
        if request.form["decision"] != "allow":
            return _respond_error(
                AccessDeniedError(redirect_uri=grant.redirect_uri, state=params.get("state"))
            )
        services().consent.grant(g.account.id, client.client_id, grant.request.scope or "")
        return _issue_code(grant, g.account, g.sso, params)
    scopes = [
        (scope, SCOPE_DESCRIPTIONS.get(scope, scope))
        for scope in (grant.request.scope or "").split()
    ]
    # The form posts back here: keep a re-authentication marker, or prompt=login loops.
    marker = (request.form if request.method == "POST" else request.args).get(_REAUTH)
    hidden = {**params, _REAUTH: marker} if marker else params
    return render_template("authorize/consent.html", client=client, scopes=scopes, params=hidden)


def _issue_code(grant: Any, account: Any, sso: Any, params: dict[str, str]) -> Response:
    grant.request.sign_in_context = SignInContext(
        sso_session_id=sso.id,
        auth_time=sso.auth_time,
        amr=tuple(sso.amr),
        acr=sso.acr,
        claims_request=_claims_request(params, grant),
    )
    response: Response = oidc().create_authorization_response(grant=grant, grant_user=account)
    services().sso.record_client(sso, grant.request.client.client_id)
    return response  # committed by the request's unit of work (web/transaction.py)
