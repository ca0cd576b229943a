"""The kiosk locks itself after idle_lock_minutes without a touch; only the same user unlocks it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.api.helpers import API, assert_error, birth_names, current_code, logged_in, patient, running_agent
from tests.live import LiveAgent

IDLE = 3.0  # idle_lock_minutes = 0.05
BACKGROUND = {"X-Telecart-Background": "1"}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    with running_agent(tmp_path_factory.mktemp("idle"), security={"idle_lock_minutes": 0.05}) as agent:
        yield agent


def _login(agent: LiveAgent) -> tuple[requests.Session, float]:
    """A nurse's client and the (monotonic) time her session was last touched, at the latest."""
    account = agent.add_account()
    client = logged_in(agent, account)
    client.account = account  # type: ignore[attr-defined]
    return client, time.monotonic()


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _unlock(agent: LiveAgent, client: requests.Session, password: str, otp: str) -> requests.Response:
    return client.post(f"{agent.url}{API}/session/unlock", json={"password": password, "otp": otp})


def test_login_announces_the_idle_delay(agent: LiveAgent) -> None:
    client, _ = _login(agent)
    assert client.get(f"{agent.url}{API}/session").json()["idle_lock_seconds"] == IDLE


def test_idle_session_locks_and_the_same_user_unlocks_it(agent: LiveAgent) -> None:
    client, _ = _login(agent)
    account = client.account  # type: ignore[attr-defined]
    assert client.get(f"{agent.url}{API}/patients").status_code == 200
    touched = time.monotonic()
    _sleep_until(touched + IDLE + 0.5)

    assert_error(client.get(f"{agent.url}{API}/patients"), 423, "session_locked")
    body = patient()
    assert_error(client.post(f"{agent.url}{API}/patients", json=body), 423, "session_locked")
    looked_up = client.get(f"{agent.url}{API}/session")
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["locked"] is True
    assert looked_up.json()["user"]["login"] == account.login

    # Wrong password: still locked.
    assert_error(_unlock(agent, client, "not-the-password", current_code(account)), 401, "bad_credentials")
    assert_error(client.get(f"{agent.url}{API}/patients"), 423, "session_locked")

    unlocked = _unlock(agent, client, account.password, account.code())
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked"] is False
    assert client.get(f"{agent.url}{API}/patients").status_code == 200
    assert body["birth_name"] not in birth_names(agent, client), "a write sent while locked was saved"


def test_another_user_cannot_unlock_the_session(agent: LiveAgent) -> None:
    client, _ = _login(agent)
    intruder = agent.add_account(password="the-intruders-own-password")
    client.post(f"{agent.url}{API}/session/lock").raise_for_status()
    reply = _unlock(agent, client, intruder.password, current_code(intruder))
    assert_error(reply, 401, "bad_credentials")
    assert_error(client.get(f"{agent.url}{API}/patients"), 423, "session_locked")


def test_background_refreshes_do_not_keep_the_session_awake(agent: LiveAgent) -> None:
    before_login = time.monotonic()  # the session was last touched after this, and at `touched` at the latest
    client, touched = _login(agent)
    seen: list[int] = []
    while time.monotonic() < touched + IDLE - 0.4:
        status = client.get(f"{agent.url}{API}/patients", headers=BACKGROUND).status_code
        if time.monotonic() < before_login + IDLE:  # surely answered within the idle time, even on a loaded machine
            seen.append(status)
        time.sleep(0.5)
    assert len(seen) >= 4 and set(seen) == {200}, seen
    _sleep_until(touched + IDLE + 0.3)
    late = client.get(f"{agent.url}{API}/patients", headers=BACKGROUND)
    assert late.status_code == 423, f"background requests kept the session awake: {late.status_code} {late.text}"
    assert_error(client.get(f"{agent.url}{API}/patients"), 423, "session_locked")
    assert client.get(f"{agent.url}{API}/session", headers=BACKGROUND).json()["locked"] is True


def test_normal_requests_keep_the_session_awake(agent: LiveAgent) -> None:
    client, touched = _login(agent)
    seen: list[int] = []
    while time.monotonic() < touched + 5.0:
        seen.append(client.get(f"{agent.url}{API}/patients").status_code)
        time.sleep(0.5)
    assert len(seen) >= 8 and set(seen) == {200}, seen
    assert client.get(f"{agent.url}{API}/session").json()["locked"] is False


def test_locking_at_once(agent: LiveAgent) -> None:
    client, _ = _login(agent)
    locked = client.post(f"{agent.url}{API}/session/lock")
    assert locked.status_code == 204, locked.text
    assert_error(client.get(f"{agent.url}{API}/patients"), 423, "session_locked")
    assert client.get(f"{agent.url}{API}/session").json()["locked"] is True
    # Logging out stays possible from the lock screen.
    assert client.delete(f"{agent.url}{API}/session").status_code == 204
    assert_error(client.get(f"{agent.url}{API}/session"), 401, "not_logged_in")
