"""The app's side of OpenID Connect, on Authlib's Flask client: sign-in (code flow, PKCE S256,
client_secret_basic), userinfo with refresh, RP-initiated logout and logout tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response

from clients.sample_portal.backchannel import Expected, LogoutNotice, validate_logout_token
from clients.sample_portal.sessions import SignedIn
from clients.sample_portal.settings import PortalSettings

HTTP_TIMEOUT_SECONDS = 10
HTTP_OK = 200
UNAUTHORIZED = 401


class SignInError(Exception):
    """The sign-in response was an error, or did not check out (state, iss, ID token)."""


class SignedOutError(Exception):
    """The provider no longer accepts this session's tokens (revoked, expired, reused)."""


class ProviderUnavailableError(Exception):
    """The provider did not answer, or not as its metadata says it should."""


class ProviderClient:
    """One app's registration at the provider, and the calls the app makes to it."""

    def __init__(self, oauth: OAuth, settings: PortalSettings) -> None:
        self._settings = settings
        self._client = oauth.register(
            "portal",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.metadata_url,
            client_kwargs={
                "scope": settings.scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "default_timeout": HTTP_TIMEOUT_SECONDS,
            },
        )

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once, then cached by Authlib)."""
        try:
            metadata: dict[str, Any] = self._client.load_server_metadata()
        except (requests.RequestException, ValueError):
            raise ProviderUnavailableError("discovery") from None
        # OpenID Connect Discovery 1.0, 4.3: the issuer must be the one we asked.
        if metadata.get("issuer") != self._settings.issuer:
            raise ProviderUnavailableError("issuer")
        return metadata

    def sign_in_redirect(self) -> Response:
        """Send the browser to the authorization endpoint (state, nonce, PKCE kept in the
        app's session cookie by Authlib)."""
        self.metadata()
        response: Response = self._client.authorize_redirect(self._settings.redirect_uri)
        return response

    def finish_sign_in(self, args: Mapping[str, str]) -> SignedIn:
        """Check the callback, redeem the code, validate the ID token; the new session."""
        metadata = self.metadata()
        # RFC 9207: the response names its issuer, so a mix-up with another provider fails.
        is_iss_expected = metadata.get("authorization_response_iss_parameter_supported")
        if ("iss" in args or is_iss_expected) and args.get("iss") != metadata["issuer"]:
            raise SignInError("iss")
        try:
            token = self._client.authorize_access_token()
        except (AuthlibBaseError, JoseError) as error:
            raise SignInError(getattr(error, "error", type(error).__name__)) from None
        except (requests.RequestException, ValueError):
            raise ProviderUnavailableError("token") from None
        claims = token.get("userinfo")
        if not claims or "access_token" not in token:
            raise SignInError("id_token")
        return SignedIn(
            sub=str(claims["sub"]),
            sid=claims.get("sid"),
            id_token=token["id_token"],
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            expires_at=self._expires_at(token),
            locale=claims.get("locale"),
            name=claims.get("name") or claims.get("preferred_username"),
        )

    def claims(self, record: SignedIn) -> dict[str, Any]:
        """The userinfo claims as the provider sees them now (a restriction shows at once).
        Refreshes an expired access token; SignedOutError when the session is no longer
        accepted."""
        with record.lock:
            if record.is_expired(self._settings.now()):
                self._refresh(record)
            response = self._userinfo(record)
            if response.status_code == UNAUTHORIZED and record.refresh_token:
                # The provider may have ended the token before we thought: refresh once.
                self._refresh(record)
                response = self._userinfo(record)
        if response.status_code == UNAUTHORIZED:
            raise SignedOutError("userinfo")
        try:
            claims = response.json() if response.status_code == HTTP_OK else None
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise ProviderUnavailableError("userinfo")
        record.locale = claims.get("locale")  # the language chosen at the provider, for our pages
        return claims

    def sign_out_redirect(self, id_token: str) -> Response:
        """RP-initiated logout: to the end_session_endpoint with id_token_hint, the
        post-logout redirect URI and a state Authlib keeps in the session cookie."""
        self.metadata()
        response: Response = self._client.logout_redirect(
            post_logout_redirect_uri=self._settings.post_logout_redirect_uri,
            id_token_hint=id_token,
        )
        return response

    def is_sign_out_return(self) -> bool:
        """Whether this request is the provider sending back a sign-out we started."""
        try:
            self._client.validate_logout_response()
        except OAuthError:
            return False
        return True

    def read_logout_token(self, token: str) -> LogoutNotice:
        """Validate a back-channel logout token (LogoutTokenError when it is not valid)."""
        metadata = self.metadata()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        expected = Expected(
            issuer=metadata["issuer"],
            client_id=self._settings.client_id,
            algorithms=[alg for alg in algorithms if alg != "none"],
            now=self._settings.now,
        )
        return validate_logout_token(token, self._key_set, expected)

    def _key_set(self, force: bool) -> KeySet:
        try:
            return KeySet.import_key_set(self._client.fetch_jwk_set(force=force))
        except (requests.RequestException, ValueError):
            raise ProviderUnavailableError("jwks") from None

    def _userinfo(self, record: SignedIn) -> requests.Response:
        # No expires_at in this token: the refresh decision is ours (above), not the library's.
        token = {"access_token": record.access_token, "token_type": "Bearer"}
        try:
            response: requests.Response = self._client.get(
                self.metadata()["userinfo_endpoint"], token=token
            )
        except requests.RequestException:
            raise ProviderUnavailableError("userinfo") from None
        return response

    def _refresh(self, record: SignedIn) -> None:
        if not record.refresh_token:
            raise SignedOutError("no_refresh_token")
        try:
            token = self._client.fetch_access_token(
                grant_type="refresh_token", refresh_token=record.refresh_token
            )
        except OAuthError as error:
            if error.error == "invalid_grant":  # revoked, expired or already used
                raise SignedOutError("invalid_grant") from None
            raise ProviderUnavailableError(error.error) from None
        except (requests.RequestException, ValueError):
            raise ProviderUnavailableError("refresh") from None
        record.access_token = token["access_token"]
        record.refresh_token = token.get("refresh_token", record.refresh_token)
        record.expires_at = self._expires_at(token)
        # Straight from the token endpoint (OIDC Core 3.1.3.7): good as a later id_token_hint.
        record.id_token = token.get("id_token", record.id_token)

    def _expires_at(self, token: Mapping[str, Any]) -> float:
        return self._settings.now() + float(token.get("expires_in") or 0)
