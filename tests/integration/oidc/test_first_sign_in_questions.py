"""First sign-in: an app's authorization waits until the guardian has chosen security questions,
then resumes to the app with a code."""

from __future__ import annotations

from urllib.parse import urlencode

from flask.testing import FlaskClient

from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account
from tests.integration.oidc.conftest import (
    authorize_params,
    new_pkce,
    redirect_query,
    sign_in,
    sign_in_form,
)


def test_authorization_is_held_until_questions_are_chosen_then_resumes(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    make_account(services, has_questions=False)
    authorize_url = "/authorize?" + urlencode(authorize_params(new_pkce()))
    to_sign_in = sign_in_form(client.get(authorize_url))
    signed_in = sign_in(client, next_url=to_sign_in.query["next"])
    held = client.get(signed_in.headers["Location"])
    assert held.status_code == 302
    assert held.headers["Location"].startswith("/security-questions?next=")

    page = client.get(held.headers["Location"]).get_data(as_text=True)
    keys = services.policies.credentials.security_questions.question_keys
    form = {"csrf_token": csrf_token(page), "password": DEFAULT_PASSWORD}
    answers = ("rex the dog", "oslo", "hill road")
    for number, (key, answer) in enumerate(zip(keys[:3], answers, strict=True), 1):
        form |= {f"question_{number}": key, f"answer_{number}": answer}
    resumed = client.post(held.headers["Location"], data=form)

    assert resumed.status_code == 302
    assert resumed.headers["Location"].startswith("/authorize?")
    assert "code" in redirect_query(client.get(resumed.headers["Location"]))


def test_without_questions_no_app_gets_a_code(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    make_account(services, has_questions=False)
    sign_in(client)

    response = client.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/security-questions?next=")


def test_prompt_none_gets_interaction_required_until_questions_are_chosen(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    make_account(services, has_questions=False)
    sign_in(client)

    response = client.get("/authorize?" + urlencode(authorize_params(new_pkce(), prompt="none")))

    query = redirect_query(response)
    assert query["error"] == "interaction_required"
    assert "code" not in query


def test_pages_wait_for_the_questions_too(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    make_account(services, has_questions=False)
    sign_in(client)

    response = client.get("/preferences/connected-apps")

    assert response.status_code == 303
    assert response.headers["Location"] == "/security-questions?next=/preferences/connected-apps?"
