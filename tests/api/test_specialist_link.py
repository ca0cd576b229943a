"""The specialist's side of the invitation link: a one-time code by SMS (a real HTTP gateway on
loopback), then the dossier, read and signed under the specialist's own name."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import CartBase, assert_error, audit_items, logged_in, patient
from tests.live import free_port, running_agent
from tests.loopback import SmsGateway, eventually, sms_gateway


@dataclass
class Cart(CartBase):
    sms: SmsGateway
    nurse: requests.Session
    admin: requests.Session

    def dossier(self, mobile: str, **parts: object) -> dict:
        made = self.nurse.post(self.url("/patients"), json=patient(birth_name="LIEN", confirm_duplicate=True)).json()
        body = {"patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
                "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "mobile": mobile},
                "slot": {"now": True}, "confirm_overlap": True, **parts}
        reply = self.nurse.post(self.url("/dossiers"), json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def code_for(self, mobile: str, after: int) -> str:
        texts = eventually(lambda: [t["text"] for t in self.sms.texts[after:] if t["to"] == mobile and "code" in t["text"]])
        return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def link_api(invitation: dict) -> str:
    room, token = invitation["link"].rsplit("/", 2)[-2:]
    return f"/links/{room}/{token}"


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    gateway = SmsGateway()
    port = free_port()
    with sms_gateway(gateway) as url, running_agent(tmp_path_factory.mktemp("link"), port=port,
                                                     server={"public_url": f"http://127.0.0.1:{port}"}, sms={"gateway_url": url}) as agent:
        yield Cart(agent, gateway, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.ADMIN)))


def enter(cart: Cart, invitation: dict, mobile: str) -> requests.Session:
    """The specialist's browser: asks a code, types it, gets the dossier's session."""
    browser = requests.Session()
    before = len(cart.sms.texts)
    sent = browser.post(cart.url(f"{link_api(invitation)}/code"))
    assert sent.status_code == 200, sent.text
    code = cart.code_for(mobile, before)
    opened = browser.post(cart.url(f"{link_api(invitation)}/session"), json={"code": code})
    assert opened.status_code == 201, opened.text
    browser.headers["X-CSRF-Token"] = opened.json()["csrf_token"]
    return browser


def test_the_link_alone_shows_no_health_data_a_code_by_sms_opens_the_dossier(cart: Cart) -> None:
    dossier = cart.dossier("0612345671")
    [invitation] = dossier["invitations"]
    page = requests.get(invitation["link"] + "?vue=dossier")
    assert page.status_code == 200 and "/static/specialist/app.js" in page.text
    assert "LIEN" not in page.text  # the patient's name only after the code

    browser = requests.Session()
    assert_error(browser.get(cart.url(f"{link_api(invitation)}/dossier")), 401, "link_session_missing")
    before = len(cart.sms.texts)
    sent = browser.post(cart.url(f"{link_api(invitation)}/code"))
    assert sent.json() == {"sent_to": "+33 6 •• •• •• 71", "channel": "sms", "other_channel": None}
    code = cart.code_for("+33612345671", before)
    assert browser.get(cart.url(f"{link_api(invitation)}/code")).json()["state"] == "sent"  # the page says so only now
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = assert_error(browser.post(cart.url(f"{link_api(invitation)}/session"), json={"code": wrong}), 401, "code_wrong")
    assert "4 essai" in body["message"]
    opened = browser.post(cart.url(f"{link_api(invitation)}/session"), json={"code": code})
    assert opened.status_code == 201 and "telecart_link_session" in opened.cookies
    assert "HttpOnly" in opened.headers["Set-Cookie"] and "SameSite=Strict" in opened.headers["Set-Cookie"]

    seen = browser.get(cart.url(f"{link_api(invitation)}/dossier")).json()
    assert seen["patient"]["display_name"].startswith("LIEN") and "invitations" not in seen
    # The same code does not open a second door.
    assert_error(requests.post(cart.url(f"{link_api(invitation)}/session"), json={"code": code}), 401, "code_expired")
    # A link session is no staff session.
    assert_error(browser.get(cart.url("/patients")), 401, "not_logged_in")
    reads = [r for r in audit_items(cart.agent, cart.admin, patient_id=dossier["patient"]["id"]) if r["actor"] == "Dr Claire Petit"]
    assert {"link.code", "link.login", "dossier.read"} <= {r["action"] for r in reads}
    assert {r["role"] for r in reads} == {"specialist"}


def test_one_browser_holding_two_links_is_answered_each_links_own_resident(cart: Cart) -> None:
    """One doctor asked about two residents (or two doctors on one computer): each link's page
    reads its own dossier, and one link's session never opens another's."""
    first = cart.dossier("0612345681")
    second = cart.dossier("0612345681")
    first_link, second_link = first["invitations"][0], second["invitations"][0]
    browser = enter(cart, first_link, "+33612345681")
    # The first session, sent on the second link's address, is refused and shows nothing.
    stray = requests.Session()
    stray.cookies.set("telecart_link_session", browser.cookies["telecart_link_session"])
    assert_error(stray.get(cart.url(f"{link_api(second_link)}/dossier")), 401, "link_session_missing")
    assert_error(browser.get(cart.url(f"{link_api(second_link)}/dossier")), 401, "link_session_missing")

    second_session = enter(cart, second_link, "+33612345681")
    browser.cookies.update(second_session.cookies)  # the same browser now holds both
    assert browser.get(cart.url(f"{link_api(first_link)}/dossier")).json()["id"] == first["id"]
    assert browser.get(cart.url(f"{link_api(second_link)}/dossier")).json()["id"] == second["id"]


def test_codes_cannot_be_asked_in_a_burst(cart: Cart) -> None:
    invitation = cart.dossier("0612345672")["invitations"][0]
    assert requests.post(cart.url(f"{link_api(invitation)}/code")).status_code == 200
    assert_error(requests.post(cart.url(f"{link_api(invitation)}/code")), 429, "code_too_soon")


def test_a_relatives_link_does_not_open_the_dossier(cart: Cart) -> None:
    dossier = cart.dossier("0612345673", accompaniment={"kind": "relative", "companion": {
        "name": "LEFEBVRE", "remote": True, "mobile": "0612345674"}})
    relative = next(i for i in dossier["invitations"] if i["role"] == "relative")
    assert_error(requests.post(cart.url(f"{link_api(relative)}/code")), 403, "not_a_specialist_link")
    assert "/static/call/join.js" in requests.get(relative["link"]).text  # the call, not the dossier
    assert "/static/specialist/app.js" not in requests.get(relative["link"] + "?vue=dossier").text


def test_the_specialist_writes_and_signs_then_the_dossier_is_closed(cart: Cart) -> None:
    dossier = cart.dossier("0612345675")
    invitation = dossier["invitations"][0]
    browser = enter(cart, invitation, "+33612345675")
    written = browser.patch(cart.url(f"{link_api(invitation)}/fiche"), json={"expert_opinion": "Pas de signe de gravité. Contrôle dans 1 mois."})
    assert written.status_code == 200 and written.json()["fiche"]["expert_opinion"].startswith("Pas de signe")
    assert_error(requests.Session().patch(cart.url(f"{link_api(invitation)}/fiche"), json={"expert_opinion": "x"}), 401, "link_session_missing")
    no_csrf = requests.Session()
    no_csrf.cookies.update(browser.cookies)
    assert_error(no_csrf.patch(cart.url(f"{link_api(invitation)}/fiche"), json={"expert_opinion": "x"}), 403, "csrf_missing")

    cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/transitions"), json={"to": "in_progress"})
    signed = browser.post(cart.url(f"{link_api(invitation)}/signature"))
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "closed" and signed.json()["fiche"]["signed_by"] == "Dr Claire Petit"
    assert_error(browser.patch(cart.url(f"{link_api(invitation)}/fiche"), json={"expert_opinion": "changé"}), 409, "dossier_closed")
    report = browser.get(cart.url(f"{link_api(invitation)}/report.pdf"))
    assert report.headers["Content-Type"] == "application/pdf"
    staff_view = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()
    assert staff_view["state"] == "closed" and staff_view["fiche"]["expert_opinion"].startswith("Pas de signe")


def move_room(cart: Cart, room_id: str, opens: str, closes: str) -> None:
    """Time passing, without waiting for it."""
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE rooms SET opens_at = ?, closes_at = ? WHERE id = ?", [opens, closes, room_id])
    db.close()


def test_after_the_call_the_report_window_still_opens_the_dossier_then_closes(cart: Cart) -> None:
    dossier = cart.dossier("0612345676")
    invitation = dossier["invitations"][0]
    now = datetime.now(UTC)
    stamp = lambda t: t.isoformat(timespec="seconds").replace("+00:00", "Z")  # noqa: E731
    move_room(cart, dossier["room"]["id"], stamp(now - timedelta(hours=3)), stamp(now - timedelta(hours=2)))
    assert "/static/specialist/app.js" in requests.get(invitation["link"]).text  # within the 72 h of the report
    browser = enter(cart, invitation, "+33612345676")
    assert browser.get(cart.url(f"{link_api(invitation)}/dossier")).status_code == 200

    move_room(cart, dossier["room"]["id"], stamp(now - timedelta(hours=80)), stamp(now - timedelta(hours=79)))
    assert_error(browser.get(cart.url(f"{link_api(invitation)}/dossier")), 401, "link_session_missing")
    assert requests.get(invitation["link"]).status_code == 410
    assert_error(requests.post(cart.url(f"{link_api(invitation)}/code")), 403, "link_refused")


def test_revoking_the_invitation_ends_the_specialists_access(cart: Cart) -> None:
    dossier = cart.dossier("0612345677")
    invitation = dossier["invitations"][0]
    browser = enter(cart, invitation, "+33612345677")
    cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/invitations/{invitation['id']}"))
    assert_error(browser.get(cart.url(f"{link_api(invitation)}/dossier")), 401, "link_session_missing")
    body = assert_error(requests.post(cart.url(f"{link_api(invitation)}/code")), 403, "link_refused")
    assert "annulé" in body["message"]
