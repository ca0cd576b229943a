"""Logging in with login, password and one-time code; wrong credentials, replayed codes, lockout."""

from __future__ import annotations

import time

import pytest

from agent.access.roles import Role
from tests.api.helpers import (
    API,
    anonymous,
    assert_error,
    cookie_header,
    current_code,
    post_login,
    session_cookie,
    set_cookies,
    token_of,
    wrong_code,
)
from tests.live import PASSWORD, LiveAgent

LABELS = {Role.NURSE: "Infirmier·ère", Role.DOCTOR: "Médecin", Role.TECHNICIAN: "Technicien·ne", Role.ADMIN: "Administrateur·rice"}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_login_opens_a_session_in_an_httponly_strict_cookie(shared_agent: LiveAgent, role: Role) -> None:
    account = shared_agent.add_account(role)
    reply = post_login(shared_agent, account.login, account.password, account.code())

    assert reply.status_code == 201, reply.text
    cookie = session_cookie(reply)
    attributes = {part.strip().split("=", 1)[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes, cookie
    assert attributes.get("samesite", "").lower() == "samesite=strict", cookie
    assert attributes.get("path") == "Path=/", cookie
    assert attributes.get("max-age") == "Max-Age=43200", cookie  # 12 h, the default session_hours
    token = token_of(reply)
    assert len(token) >= 32

    body = reply.json()
    assert body["user"]["login"] == account.login
    assert body["user"]["role"] == role.value
    assert body["user"]["role_label"] == LABELS[role]
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 32
    assert body["csrf_token"] != token
    assert body["idle_lock_seconds"] == 300  # idle_lock_minutes = 5 by default
    assert body["locked"] is False
    assert token not in reply.text, "the session token must live only in the HttpOnly cookie"

    # The cookie is the session: sent back alone, it names the same user.
    looked_up = anonymous().get(f"{shared_agent.url}{API}/session", headers=cookie_header(token))
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["user"]["login"] == account.login


def test_wrong_password_is_refused_in_french(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    reply = post_login(shared_agent, account.login, "not-the-password", current_code(account))
    body = assert_error(reply, 401, "bad_credentials")
    assert "incorrect" in body["message"]
    assert not set_cookies(reply)
    # The right credentials still work afterwards (one failure does not lock).
    assert post_login(shared_agent, account.login, account.password, account.code()).status_code == 201


def test_wrong_code_is_refused(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    reply = post_login(shared_agent, account.login, account.password, wrong_code(account))
    assert_error(reply, 401, "bad_credentials")
    assert not set_cookies(reply)


def test_a_code_works_only_once(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    code = account.code()
    assert post_login(shared_agent, account.login, account.password, code).status_code == 201
    again = post_login(shared_agent, account.login, account.password, code)
    body = assert_error(again, 401, "replayed_code")
    assert "déjà servi" in body["message"]
    assert not set_cookies(again)


def test_unknown_login_looks_like_a_wrong_password(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    wrong_password = assert_error(post_login(shared_agent, account.login, "not-the-password", current_code(account)),
                                  401, "bad_credentials")
    unknown = assert_error(post_login(shared_agent, "nobody-here", PASSWORD, "123456"), 401, "bad_credentials")
    assert unknown == wrong_password


def _fail_five_times(agent: LiveAgent, login: str, account_code: str, bad_code: str) -> None:
    """Five failed logins, wrong passwords and wrong codes mixed: the first four are plain refusals."""
    attempts = [("nope-1", account_code), (PASSWORD, bad_code), ("nope-2", account_code), (PASSWORD, bad_code), ("nope-3", account_code)]
    for number, (password, code) in enumerate(attempts, start=1):
        reply = post_login(agent, login, password, code)
        if number < 5:
            assert_error(reply, 401, "bad_credentials")
        else:
            assert reply.status_code in (401, 423), reply.text


def test_five_failures_lock_the_account_even_for_the_right_credentials(shared_agent: LiveAgent) -> None:
    victim = shared_agent.add_account()
    bystander = shared_agent.add_account()
    _fail_five_times(shared_agent, victim.login, current_code(victim), wrong_code(victim))

    reply = post_login(shared_agent, victim.login, victim.password, current_code(victim))
    body = assert_error(reply, 423, "account_locked")
    assert 890 <= int(reply.headers["Retry-After"]) <= 900, reply.headers  # lockout_minutes = 15 by default (less the seconds the replies took)
    assert "15 minute" in body["message"]
    assert not set_cookies(reply)
    # Still locked for a wrong password too (no way to keep guessing).
    assert_error(post_login(shared_agent, victim.login, "nope-4", current_code(victim)), 423, "account_locked")

    # Another account on the same cart is not affected.
    assert post_login(shared_agent, bystander.login, bystander.password, bystander.code()).status_code == 201


def test_a_locked_account_opens_again_after_the_lockout(agent_with) -> None:  # type: ignore[no-untyped-def]
    agent = agent_with(security={"lockout_minutes": 0.05})  # 3 s
    account = agent.add_account()
    _fail_five_times(agent, account.login, current_code(account), wrong_code(account))
    locked_at = time.monotonic()

    reply = post_login(agent, account.login, account.password, current_code(account))
    assert_error(reply, 423, "account_locked")
    assert int(reply.headers["Retry-After"]) >= 3

    time.sleep(max(0.0, locked_at + 3.3 - time.monotonic()))
    reopened = post_login(agent, account.login, account.password, account.code())
    assert reopened.status_code == 201, reopened.text


def test_an_unknown_login_locks_like_a_real_one(shared_agent: LiveAgent) -> None:
    """Guessing logins must not reveal which accounts exist: the lockout answers the same."""
    for _ in range(4):
        assert_error(post_login(shared_agent, "no-such-nurse", PASSWORD, "123456"), 401, "bad_credentials")
    fifth = post_login(shared_agent, "no-such-nurse", PASSWORD, "123456")
    assert fifth.status_code in (401, 423), fifth.text
    assert_error(post_login(shared_agent, "no-such-nurse", PASSWORD, "123456"), 423, "account_locked")
