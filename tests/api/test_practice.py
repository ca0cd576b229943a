"""The practice mode's doors, against the live agent (issue 15): the one-time entry, what the
practice agent refuses to do for real, the way out, and a practice a power cut ended, erased at
the next start. The whole journey in Chromium is tests/call/test_practice.py."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from agent.access.roles import Role
from tests.api.helpers import API, assert_french, logged_in, running_agent
from tests.loopback import eventually


def practice_client(url: str) -> tuple[requests.Session, str]:
    """A client of the practice agent: its host name is Chromium's (practice.localhost), its address loopback."""
    parts = urlsplit(url)
    session = requests.Session()
    session.headers["Host"] = parts.netloc
    return session, f"http://127.0.0.1:{parts.port}"


def test_a_practice_is_entered_once_per_code_sends_nothing_prints_nothing_and_leaves_nothing(tmp_path: Path) -> None:
    leftover = tmp_path / "data"
    (leftover / "practice" / "blobs").mkdir(parents=True)
    (leftover / "practice" / "telecart.db").write_bytes(b"a practice a power cut ended")
    with running_agent(tmp_path, data_dir=leftover) as agent:
        assert not (leftover / "practice").exists()  # erased at start
        nurse_account = agent.add_account(Role.NURSE)
        nurse = logged_in(agent, nurse_account)
        assert nurse.get(f"{agent.url}{API}/practice").json() == {"inside": False, "offered": True, "active": False,
                                                                  "idle_seconds": None, "back_to": None}
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        assert admin.post(f"{agent.url}{API}/practice").status_code == 403  # no health data, no practice of it

        url = nurse.post(f"{agent.url}{API}/practice").json()["url"]
        assert re.fullmatch(r"http://practice\.localhost:\d+/#/entree/[A-Za-z0-9_-]+", url) and (leftover / "practice" / "telecart.db").exists()
        practice, base = practice_client(url)
        code = url.rsplit("/", 1)[1]
        entered = practice.post(f"{base}{API}/practice/enter", json={"code": code})
        assert entered.status_code == 201 and "telecart_session" in entered.cookies
        again = requests.post(f"{base}{API}/practice/enter", json={"code": code}, headers={"Host": urlsplit(url).netloc})
        assert again.status_code == 401 and "telecart_session" not in again.cookies  # once only
        assert_french(again.json()["message"])

        session = practice.get(f"{base}{API}/session").json()
        assert session["user"]["login"] == nurse_account.login  # the same nurse, her account copied in
        assert practice.get(f"{base}{API}/practice").json() == {"inside": True, "offered": False, "active": True,
                                                                "idle_seconds": 15 * 60, "back_to": f"{agent.url}/"}
        practice.headers["X-CSRF-Token"] = session["csrf_token"]
        refused = practice.post(f"{base}{API}/practice")
        assert refused.status_code == 409
        assert_french(refused.json()["message"])

        # The demo is there; its invitations are "sent" to nobody.
        dossiers = practice.get(f"{base}{API}/dossiers").json()["items"]
        assert {d["patient_name"] for d in dossiers} >= {"LEFEBVRE Jeanne"}
        running = next(d for d in dossiers if d["state"] == "in_progress")
        invitations = eventually(lambda: [i for i in practice.get(f"{base}{API}/dossiers/{running['id']}").json()["invitations"]
                                          if all(d["state"] == "sent" for d in i["deliveries"])] or None)
        assert invitations
        report = practice.post(f"{base}{API}/dossiers/{running['id']}/report/print", json={"copies": 1})
        assert report.status_code == 409 and "rien n'est imprimé" in report.json()["message"]
        # The real cart holds none of it.
        assert nurse.get(f"{agent.url}{API}/patients", params={"q": "LEFEBVRE"}).json()["items"] == []
        assert nurse.post(f"{agent.url}{API}/practice/leave").status_code == 409

        left = practice.post(f"{base}{API}/practice/leave")
        assert left.status_code == 200 and left.json()["back_to"] == f"{agent.url}/"
        eventually(lambda: not (leftover / "practice").exists() or None)
        assert nurse.get(f"{agent.url}{API}/practice").json()["active"] is False
        try:
            requests.get(f"{base}/healthz", timeout=2)
            raise AssertionError("the practice agent still answers")
        except requests.ConnectionError:
            pass


def test_a_practice_nobody_uses_ends_by_itself_and_is_erased(tmp_path: Path) -> None:
    """The nurse walked away from a practice: the next one must find the real cart. While it is
    used it goes on; left alone for idle_minutes it ends, its data erased, said in the audit trail
    (the kiosk leaves it at that time; the agent a little later, for a kiosk that is not there)."""
    with running_agent(tmp_path, practice={"idle_minutes": 0.05}, security={"idle_lock_minutes": 0.1}) as agent:
        account = agent.add_account(Role.NURSE)
        nurse = logged_in(agent, account)
        url = nurse.post(f"{agent.url}{API}/practice").json()["url"]
        practice, base = practice_client(url)
        assert practice.post(f"{base}{API}/practice/enter", json={"code": url.rsplit("/", 1)[1]}).status_code == 201
        assert practice.get(f"{base}{API}/practice").json()["idle_seconds"] == 3

        used_until = time.monotonic() + 6  # twice idle_minutes, in use all along
        while time.monotonic() < used_until:
            assert practice.get(f"{base}{API}/dossiers").status_code == 200, "the practice ended while in use"
            time.sleep(0.5)
        assert nurse.get(f"{agent.url}{API}/practice").json()["active"] is True

        for _ in range(3):  # the kiosk's refreshes are nobody's touch
            practice.get(f"{base}{API}/practice/real-callers", headers={"X-Telecart-Background": "1"})
            time.sleep(0.5)
        eventually(lambda: nurse.get(f"{agent.url}{API}/practice").json()["active"] is False or None, timeout=15,
                   what="the idle practice ended")
        # Said ended at once; its data erased, then the leaving audited, while the agent stops it.
        admin = logged_in(agent, agent.add_account(Role.ADMIN))

        def left() -> list[dict] | None:
            trail = admin.get(f"{agent.url}{API}/audit", params={"actor": account.login}).json()["items"]
            return [e for e in trail if e["action"] == "practice.leave"] or None
        (entry,) = eventually(left, timeout=15, what="the practice's leaving audited")
        assert "sans activité" in entry["detail"], entry
        assert not (agent.data_dir / "practice").exists()


def test_a_cart_without_practice_does_not_offer_it(tmp_path: Path) -> None:
    with running_agent(tmp_path, practice={"enabled": False}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        assert nurse.get(f"{agent.url}{API}/practice").json()["offered"] is False
        refused = nurse.post(f"{agent.url}{API}/practice")
        assert refused.status_code == 404
        assert_french(refused.json()["message"])


def test_a_practice_call_never_goes_through_the_regions_janus(tmp_path: Path) -> None:
    """A practice is local: its rooms stay on the direct mesh even on a cart configured with a
    Janus (which would otherwise carry a pretend call through the region's server)."""
    from agent.config import MESH_LIMIT, CallConfig, Config
    from agent.practice.mode import practice_config

    real = Config(call=CallConfig(sfu_url="wss://janus.region.example/janus", sfu_from=1, max_remote_participants=8))
    practice = practice_config(real, tmp_path, 8999)
    assert practice.call.sfu_url == ""
    assert practice.call.max_remote_participants == MESH_LIMIT
    CallConfig.model_validate(practice.call.model_dump())  # a configuration the agent accepts
