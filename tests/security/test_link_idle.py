"""A specialist's link session left alone ends like a staff session locks: on a shared hospital
workstation, the next person finds the code step, not the resident."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import API, CartBase, assert_error, link_of, logged_in, teleconsultation_now
from tests.live import free_port, running_agent
from tests.loopback import SmsGateway, eventually, sms_gateway

pytestmark = pytest.mark.security


def test_an_idle_link_session_ends_and_a_new_code_opens_it_again(tmp_path: Path) -> None:
    gateway = SmsGateway()
    port = free_port()
    with sms_gateway(gateway) as url, running_agent(tmp_path, port=port, sms={"gateway_url": url},
                                                     server={"public_url": f"http://127.0.0.1:{port}"},
                                                     security={"idle_lock_minutes": 0.05}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        dossier, _ = teleconsultation_now(CartBase(agent), nurse, "VEILLE", {"mobile": "0612345611"})
        link = agent.url + link_of(dossier, API)

        def open_with_code() -> requests.Session:
            browser = requests.Session()
            before = len(gateway.texts)
            assert browser.post(f"{link}/code").status_code == 200
            code = re.search(r"\b(\d{6})\b", eventually(lambda: [t["text"] for t in gateway.texts[before:] if "code" in t["text"]])[-1]).group(1)
            assert browser.post(f"{link}/session", json={"code": code}).status_code == 201
            return browser

        browser = open_with_code()
        assert_error(requests.get(f"{link}/dossier/version"), 401, "link_session_missing")  # the link alone says nothing
        for _ in range(3):  # in use: it stays open past the idle time
            time.sleep(1.2)
            read = browser.get(f"{link}/dossier")
            assert read.status_code == 200
        # Left alone, the page still asking every half-second whether the dossier changed: answered
        # while the session lives, and the asking does not keep it alive.
        answers = []
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            answers.append(browser.get(f"{link}/dossier/version"))
            time.sleep(0.5)
        assert answers[0].json()["version"] == read.json()["version"]
        assert [a.status_code for a in answers][-1] == 401 and 200 in [a.status_code for a in answers]
        assert_error(browser.get(f"{link}/dossier"), 401, "link_session_missing")
        db = sqlite3.connect(agent.data_dir / DATABASE_NAME)  # a new code at most every 30 s: half a minute passes
        with db:
            db.execute("UPDATE link_codes SET sent_at = sent_at - 31")
        db.close()
        assert open_with_code().get(f"{link}/dossier").status_code == 200
