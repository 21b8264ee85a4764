"""Staff at the desk in tests: an enrolled staff account and its two-step sign-in."""

from __future__ import annotations

import pyotp
from flask.testing import FlaskClient

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.models import School
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_staff

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32; each test's staff share it


def enrolled_staff(
    services: Services, school: School | None, username: str = "secretary1", role: str = "secretary"
) -> Account:
    """An active staff account with `role` at `school` and an authenticator app (TOTP_SECRET)."""
    staff = make_staff(services, school, username, role)
    services.second_factor.enroll_known_secret(staff, TOTP_SECRET)
    db.session.commit()
    return staff


def totp_code(clock: FrozenClock, secret: str = TOTP_SECRET, steps: int = 0) -> str:
    """What the authenticator app shows at the clock's time, `steps` time steps away."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


def post_password(client: FlaskClient, username: str, next_url: str | None = None) -> str:
    """The sign-in form with the right password; returns where it sends the browser."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    query = f"?next={next_url}" if next_url else ""
    response = client.post(
        f"/sign-in{query}",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return response.headers["Location"]


def post_code(
    client: FlaskClient, code: str, path: str = "/sign-in/second-factor"
) -> tuple[int, str]:
    """The second step's form with `code`: status and page (or Location of a redirect)."""
    token = csrf_token(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"code": code, "csrf_token": token})
    if response.status_code in (302, 303):
        return response.status_code, response.headers["Location"]
    return response.status_code, response.get_data(as_text=True)


def sign_in_staff(client: FlaskClient, clock: FrozenClock, username: str = "secretary1") -> None:
    """Both steps; the next time step is used so that no earlier sign-in's code is replayed."""
    post_password(client, username)
    clock.advance(seconds=30)
    status, where = post_code(client, totp_code(clock))
    assert status in (302, 303), where
