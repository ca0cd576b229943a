"""The CPS card login, agent side, on a real pcscd with the virtual reader and SoftHSM2 tokens
(tests/card/harness.py): from the card going in to the kiosk's event stream saying whose card it
is (the moment the PIN pad shows), and from the PIN sent to the session opened, against the
password + one-time code login measured in the same run. Median of 7 each.

pcscd looks at a reader every ~0.4 s: the first figure's floor is that poll, not the agent."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import requests

from agent.access.roles import Role
from bench._common import figure, scratch_dir
from tests.card.harness import CLAIRE, PIN, card_deck, machine_reader
from tests.live import running_agent

ROUNDS = 7


def _first_cps_event(url: str) -> float:
    """Seconds from now until the event stream says a CPS card is read (its holder named)."""
    started = time.monotonic()
    with requests.get(f"{url}/api/v1/card/events", stream=True, timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith(b"data:") and json.loads(line[5:])["state"] == "cps":
                return time.monotonic() - started
    raise RuntimeError("the event stream ended without a CPS card")


def figures() -> Iterator[dict[str, Any]]:
    with scratch_dir("card") as work, machine_reader(), card_deck(work / "deck") as deck:
        deck.make(CLAIRE)
        with running_agent(work / "agent", env=deck.env, card=deck.agent_card_config()) as agent:
            admin = agent.login(agent.add_account(Role.ADMIN))
            nurse = agent.add_account(Role.NURSE)
            admin.put(f"{agent.url}/api/v1/accounts/{nurse.login}/card", json={"rpps": CLAIRE.rpps}).raise_for_status()
            shown, card_logins, password_logins = [], [], []
            for _ in range(ROUNDS):
                deck.pull()
                time.sleep(0.6)  # the pull seen by pcscd before the next insertion
                inserted = time.monotonic()
                deck.insert(CLAIRE)
                waited = _first_cps_event(agent.url)
                shown.append(time.monotonic() - inserted if waited else 0.0)

                t0 = time.monotonic()
                reply = requests.post(f"{agent.url}/api/v1/session/card", json={"pin": PIN}, timeout=30)
                card_logins.append(time.monotonic() - t0)
                assert reply.status_code == 201, reply.text

                someone = agent.add_account(Role.NURSE)  # a code works once: an account per round
                code = someone.code()
                t0 = time.monotonic()
                reply = requests.post(f"{agent.url}/api/v1/session", json={"login": someone.login, "password": someone.password, "otp": code},
                                      timeout=30)
                password_logins.append(time.monotonic() - t0)
                assert reply.status_code == 201, reply.text
            deck.pull()
    yield figure("card.inserted_to_pin_pad_ms", statistics.median(shown) * 1000, "ms")
    yield figure("card.pin_to_session_ms", statistics.median(card_logins) * 1000, "ms",
                 baseline=statistics.median(password_logins) * 1000)


def run() -> list[dict[str, Any]]:
    return list(figures())
