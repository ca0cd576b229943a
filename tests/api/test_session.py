"""The session behind the cookie: lookup, logout, no cookie, expiry."""

from __future__ import annotations

import time

from tests.api.helpers import API, anonymous, assert_error, cookie_header, logged_in, post_login, set_cookies, token_of
from tests.live import LiveAgent


def test_lookup_returns_the_logged_in_user(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    client = logged_in(shared_agent, account)
    reply = client.get(f"{shared_agent.url}{API}/session")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["user"]["login"] == account.login
    assert body["user"]["role"] == "nurse"
    assert body["csrf_token"] == client.headers["X-CSRF-Token"]
    assert body["locked"] is False


def test_logout_ends_the_session_for_good(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    client = anonymous()
    login = post_login(shared_agent, account.login, account.password, account.code(), client=client)
    assert login.status_code == 201, login.text
    token = token_of(login)
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    assert client.get(f"{shared_agent.url}{API}/patients").status_code == 200

    out = client.delete(f"{shared_agent.url}{API}/session")
    assert out.status_code == 204, out.text
    cleared = [h for h in set_cookies(out) if h.startswith("telecart_session=")]
    assert cleared and ("Max-Age=0" in cleared[0] or "1970" in cleared[0]), set_cookies(out)

    # The browser forgot the cookie...
    assert_error(client.get(f"{shared_agent.url}{API}/patients"), 401, "not_logged_in")
    # ...and a copy kept by someone else opens nothing either.
    stolen = anonymous().get(f"{shared_agent.url}{API}/patients", headers=cookie_header(token))
    assert stolen.status_code == 401, stolen.text
    assert stolen.json()["error"] in ("session_expired", "not_logged_in")
    assert anonymous().get(f"{shared_agent.url}{API}/session", headers=cookie_header(token)).status_code == 401


def test_logout_needs_the_csrf_token(shared_agent: LiveAgent) -> None:
    """A cross-site request cannot log the nurse out: the session survives."""
    client = logged_in(shared_agent, shared_agent.add_account())
    forged = client.delete(f"{shared_agent.url}{API}/session", headers={"X-CSRF-Token": ""})
    assert_error(forged, 403, "csrf_missing")
    assert client.get(f"{shared_agent.url}{API}/session").status_code == 200


def test_no_cookie_means_not_logged_in(shared_agent: LiveAgent) -> None:
    for path in ("/patients", "/session", "/dossiers", "/audit"):
        body = assert_error(anonymous().get(f"{shared_agent.url}{API}{path}"), 401, "not_logged_in")
        assert "connecté" in body["message"]


def test_a_made_up_cookie_opens_nothing(shared_agent: LiveAgent) -> None:
    reply = anonymous().get(f"{shared_agent.url}{API}/patients", headers=cookie_header("A" * 43))
    assert reply.status_code == 401, reply.text


def test_session_expires_after_session_hours(agent_with) -> None:  # type: ignore[no-untyped-def]
    agent = agent_with(security={"session_hours": 0.0005})  # 1.8 s
    account = agent.add_account()
    login = post_login(agent, account.login, account.password, account.code())
    assert login.status_code == 201, login.text
    token, body = token_of(login), login.json()
    assert body["expires_at"] - time.time() < 2.0
    assert anonymous().get(f"{agent.url}{API}/patients", headers=cookie_header(token)).status_code == 200

    time.sleep(max(0.0, body["expires_at"] + 0.2 - time.time()))
    # The cookie is sent by hand: the point is what the agent does with an expired session.
    expired = anonymous().get(f"{agent.url}{API}/patients", headers=cookie_header(token))
    message = assert_error(expired, 401, "session_expired")["message"]
    assert "expiré" in message
    assert_error(anonymous().get(f"{agent.url}{API}/session", headers=cookie_header(token)), 401, "session_expired")
