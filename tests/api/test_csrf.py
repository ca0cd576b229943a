"""Cross-site request forgery: the CSRF token header, the Origin check, JSON-only bodies."""

from __future__ import annotations

import requests

from tests.api.helpers import API, anonymous, assert_error, birth_names, current_code, logged_in, patient, post_login, set_cookies
from tests.live import LiveAgent


def _post_patient(agent: LiveAgent, client: requests.Session, body: dict, **headers: str | bytes) -> requests.Response:
    return client.post(f"{agent.url}{API}/patients", json=body, headers=headers)


def test_write_without_csrf_token_is_refused_and_changes_nothing(shared_agent: LiveAgent) -> None:
    client = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    del client.headers["X-CSRF-Token"]
    assert_error(_post_patient(shared_agent, client, body), 403, "csrf_missing")
    assert body["birth_name"] not in birth_names(shared_agent, client)


def test_write_with_a_wrong_csrf_token_is_refused(shared_agent: LiveAgent) -> None:
    client = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    assert_error(_post_patient(shared_agent, client, body, **{"X-CSRF-Token": "forged-token"}), 403, "csrf_missing")
    assert_error(_post_patient(shared_agent, client, body, **{"X-CSRF-Token": ""}), 403, "csrf_missing")
    assert body["birth_name"] not in birth_names(shared_agent, client)


def test_another_sessions_csrf_token_does_not_fit(shared_agent: LiveAgent) -> None:
    mine = logged_in(shared_agent, shared_agent.add_account())
    theirs = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    reply = _post_patient(shared_agent, mine, body, **{"X-CSRF-Token": theirs.headers["X-CSRF-Token"]})
    assert_error(reply, 403, "csrf_missing")
    assert body["birth_name"] not in birth_names(shared_agent, mine)


def test_write_with_the_csrf_token_is_accepted(shared_agent: LiveAgent) -> None:
    client = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    created = _post_patient(shared_agent, client, body)
    assert created.status_code == 201, created.text
    assert body["birth_name"] in birth_names(shared_agent, client)


def test_csrf_token_that_is_not_utf8_is_refused_not_a_crash(shared_agent: LiveAgent) -> None:
    """Header bytes are the attacker's choice; any value but the token is a 403, never a 500."""
    client = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    for raw in (b"\xff\xfe", "é".encode("latin-1")):
        assert_error(_post_patient(shared_agent, client, body, **{"X-CSRF-Token": raw}), 403, "csrf_missing")
    assert body["birth_name"] not in birth_names(shared_agent, client)


def test_login_from_a_foreign_origin_is_refused(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    refused = post_login(shared_agent, account.login, account.password, current_code(account),
                         headers={"Origin": "https://evil.example"})
    assert_error(refused, 403, "origin_refused")
    assert not set_cookies(refused)
    # The same credentials from the kiosk's own origin are fine.
    own = post_login(shared_agent, account.login, account.password, account.code(), headers={"Origin": shared_agent.url})
    assert own.status_code == 201, own.text


def test_write_from_a_foreign_origin_is_refused_even_with_the_token(shared_agent: LiveAgent) -> None:
    client = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    assert_error(_post_patient(shared_agent, client, body, Origin="https://evil.example"), 403, "origin_refused")
    assert body["birth_name"] not in birth_names(shared_agent, client)


def test_an_unparsable_origin_is_refused_not_a_crash(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    reply = post_login(shared_agent, account.login, account.password, current_code(account), headers={"Origin": "http://["})
    assert_error(reply, 403, "origin_refused")
    assert not set_cookies(reply)


def test_login_accepts_only_json(shared_agent: LiveAgent) -> None:
    """A cross-site HTML form can only send form or text bodies: both are refused with 415."""
    account = shared_agent.add_account()
    fields = {"login": account.login, "password": account.password, "otp": current_code(account)}
    form = anonymous().post(f"{shared_agent.url}{API}/session", data=fields)
    assert form.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert_error(form, 415, "unsupported_media_type")
    assert not set_cookies(form)
    text = anonymous().post(f"{shared_agent.url}{API}/session", headers={"Content-Type": "text/plain"},
                            data=f'{{"login": "{account.login}", "password": "{account.password}", "otp": "{fields["otp"]}"}}')
    assert_error(text, 415, "unsupported_media_type")
    assert not set_cookies(text)
