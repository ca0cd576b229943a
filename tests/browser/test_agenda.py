"""The cart's agenda (seed 000 §2.2), driven through Chromium at 1280x800 as a nurse uses it.

Tomorrow holds three teleconsultations: DUPONT Marcel with Dr Petit at 10 h 00 for 45 min and
MARTIN Jeanne with Dr Moreau at 10 h 30 overlap (the cart would be in two rooms: both flagged
« chevauchement », side by side); LEROY Paul with Dr Roux at 14 h 00, whose SMS the gateway
refused for good (the agenda says his invitation did not arrive). The day view, the week view,
today with its "now" line, a free slot tapped (the wizard opens with that time chosen and creates
the consultation there), a consultation tapped (its dossier opens). Screenshots in
test-artifacts/agenda-*.png; each screen passes the touchscreen checks of test_touch.py.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from agent.audit import Actor
from agent.config import load_config
from agent.dossiers import directory, dossier
from agent.identity import patients
from agent.links.invitation import settings_from
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect
from tests.browser.kiosk import API, shot, sign_in
from tests.browser.test_touch import check_screen
from tests.live import Account, LiveAgent, free_port, running_agent
from tests.loopback import eventually

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")  # the browser's zone (conftest) and the agent's
REFUSED_NUMBER = "+33612345699"  # the gateway answers 400 for it: a permanent failure
DOCTORS = {
    "PETIT": ("Claire", "Cardiologie", "+33612345601"),
    "MOREAU": ("Luc", "Dermatologie", "+33612345602"),
    "ROUX": ("Anne", "Gériatrie", REFUSED_NUMBER),
}


@dataclass
class Gateway:
    texts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Cart:
    agent: LiveAgent
    day: date  # tomorrow, the cart's calendar
    ids: dict[str, str]  # resident's name -> dossier id


def tomorrow() -> date:
    return datetime.now(PARIS).date() + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def refusing_gateway(gateway: Gateway) -> tuple[ThreadingHTTPServer, str]:
    """An HTTP SMS gateway on loopback that takes every text but those to REFUSED_NUMBER (400)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            text = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            refused = text.get("to") == REFUSED_NUMBER
            if not refused:
                gateway.texts.append(text)
            self.send_response(400 if refused else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "numero inconnu"}' if refused else b'{"ok": true}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/send"


def seed_tomorrow(data: Path, sections: dict[str, Any], day: date) -> dict[str, str]:
    """Three residents, three doctors of the directory, three consultations tomorrow (two of them
    overlapping), made by the domain functions as the wizard's route makes them."""
    settings = settings_from(load_config(None, sections))
    nurse, admin = Actor("infirmiere", Role.NURSE.value, None), Actor("admin", Role.ADMIN.value, None)
    db = connect(data / DATABASE_NAME)
    try:
        with transaction(db):
            people = {name: patients.create(db, patients.NewIdentity(name, [first], born, sex, identity_status="VALI", birth_insee="75056"),
                                            nurse).id
                      for name, first, born, sex in (("DUPONT", "Marcel", date(1931, 11, 2), "M"), ("MARTIN", "Jeanne", date(1928, 5, 14), "F"),
                                                     ("LEROY", "Paul", date(1935, 2, 20), "M"))}
            doctors = {name: directory.add(db, {"name": name, "first_name": first, "specialty": specialty, "mobile": mobile}, admin).id
                       for name, (first, specialty, mobile) in DOCTORS.items()}
        ids = {}
        for resident, doctor, start, minutes in (("DUPONT", "PETIT", at(day, 10), 45), ("MARTIN", "MOREAU", at(day, 10, 30), 30),
                                                 ("LEROY", "ROUX", at(day, 14), 30)):
            new = dossier.NewDossier(people[resident], True, None, "alone", None, {"directory_id": doctors[doctor]}, start.astimezone(UTC),
                                     minutes, "Suivi", confirm_overlap=True)
            with transaction(db):
                ids[resident] = dossier.create(db, new, nurse, settings, datetime.now(UTC)).id
        return ids
    finally:
        db.close()


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    root = tmp_path_factory.mktemp("agenda")
    server, sms_url = refusing_gateway(Gateway())
    port = free_port()
    sections = {"server": {"public_url": f"http://127.0.0.1:{port}"}, "dossiers": {"establishment": "EHPAD Les Tilleuls"},
                "sms": {"gateway_url": sms_url}}
    data = root / "data"
    data.mkdir()
    day = tomorrow()
    try:
        ids = seed_tomorrow(data, sections, day)
        with running_agent(root, data_dir=data, port=port, **sections) as agent:
            yield Cart(agent, day, ids)
    finally:
        server.shutdown()
        server.server_close()


def agenda_of(cart: Cart, client: requests.Session, day: date, days: int = 1) -> dict[str, Any]:
    reply = client.get(f"{cart.agent.url}{API}/agenda", params={"from": day.isoformat(), "days": days})
    assert reply.status_code == 200, reply.text
    return reply.json()


def invitations_settled(cart: Cart, nurse: Account) -> dict[str, Any]:
    """Tomorrow's agenda once every SMS has been tried (two sent, Dr Roux's refused for good)."""
    client = cart.agent.login(nurse)

    def settled() -> dict[str, Any] | None:
        shown = agenda_of(cart, client, cart.day)
        states = [p["delivery"] for item in shown["items"] for p in item["invitees"]]
        return shown if sorted(states) == ["failed", "sent", "sent"] else None
    return eventually(settled, timeout=15, what="the three invitations sent or refused")


def open_agenda(page: Page, cart: Cart) -> Account:
    nurse = cart.agent.add_account(Role.NURSE)
    sign_in(page, cart.agent, nurse)
    page.get_by_role("navigation").get_by_role("button", name="Agenda").tap()
    expect(page.locator(".agenda-scroll .agenda-grid")).to_be_visible()
    return nurse


def item(page: Page, cart: Cart, resident: str):  # noqa: ANN201 (a Locator)
    return page.locator(f"[data-agenda-item='{cart.ids[resident]}']")


# --- the API ------------------------------------------------------------------------------------

def test_the_api_gives_the_day_in_the_carts_zone_with_overlaps_and_invitations(cart: Cart) -> None:
    nurse = cart.agent.add_account(Role.NURSE)
    shown = invitations_settled(cart, nurse)
    assert shown["zone"] == "Europe/Paris" and shown["day_list"] == [cart.day.isoformat()]
    items = {i["resident"]: i for i in shown["items"]}
    assert list(items) == ["DUPONT Marcel", "MARTIN Jeanne", "LEROY Paul"]
    dupont, martin, leroy = items.values()
    assert dupont["start"] == at(cart.day, 10).isoformat() and dupont["start_minute"] == 600 and dupont["minutes"] == 45
    assert dupont["overlaps"] == [martin["id"]] and martin["overlaps"] == [dupont["id"]] and leroy["overlaps"] == []
    assert dupont["room_opens_minute"] == 600 - 15 and dupont["room_closes_minute"] == 645 + 45
    assert leroy["invitees"][0]["name"] == "Dr Anne ROUX" and leroy["invitees"][0]["delivery"] == "failed"
    assert "400" in (leroy["invitees"][0]["channels"][0]["last_error"] or "")
    assert dupont["invitees"][0]["delivery"] == "sent" and not dupont["invitees"][0]["opened_link"]
    # Dr Petit opens her link (the room not open yet): the agenda knows she has seen it.
    client = cart.agent.login(nurse)
    link = client.get(f"{cart.agent.url}{API}/dossiers/{dupont['id']}").json()["invitations"][0]["link"]
    assert requests.get(link, timeout=10).status_code == 200
    opened = {i["resident"]: i for i in agenda_of(cart, client, cart.day)["items"]}
    assert opened["DUPONT Marcel"]["invitees"][0]["opened_link"] and not opened["MARTIN Jeanne"]["invitees"][0]["opened_link"]
    # A week from tomorrow holds them too; a technician reads no resident's name (403).
    assert len(agenda_of(cart, cart.agent.login(nurse), cart.day, 7)["items"]) >= 3
    technician = cart.agent.login(cart.agent.add_account(Role.TECHNICIAN))
    assert technician.get(f"{cart.agent.url}{API}/agenda").status_code == 403


# --- the kiosk ------------------------------------------------------------------------------------

def test_the_day_shows_overlaps_room_windows_and_a_failed_invitation(page: Page, cart: Cart, artifacts: Path) -> None:
    nurse = open_agenda(page, cart)
    invitations_settled(cart, nurse)
    # Today first: marked, with "now" as a red line (when now is within the hours drawn).
    expect(page.locator(".agenda-sub")).to_contain_text("aujourd'hui")
    if 7 <= datetime.now(PARIS).hour < 21:
        expect(page.locator(".agenda-col.today .now-line")).to_have_count(1)
        expect(page.locator(".agenda-gutter .now-label")).to_be_visible()
    shot(page, artifacts, "agenda-1-aujourdhui.png")
    check_screen(page, "agenda, aujourd'hui")

    page.get_by_role("button", name="Jour suivant").tap()
    expect(page.locator(".agenda-col")).to_have_attribute("data-day", cart.day.isoformat())
    dupont, martin, leroy = (item(page, cart, r) for r in ("DUPONT", "MARTIN", "LEROY"))
    expect(dupont).to_contain_text("10 h 00 – 10 h 45")
    expect(dupont).to_contain_text("DUPONT Marcel")
    expect(dupont).to_contain_text("Dr Claire Petit — Cardiologie")
    expect(dupont).to_contain_text("Programmée")
    for clash in (dupont, martin):
        expect(clash).to_have_class(re.compile(r"\boverlap\b"))
        expect(clash).to_contain_text("chevauchement")
    expect(leroy).not_to_have_class(re.compile(r"\boverlap\b"))
    # Side by side: the two that overlap share the column's width, left and right.
    a, b = dupont.bounding_box(), martin.bounding_box()
    assert a and b and a["x"] + a["width"] <= b["x"] + 1 and abs(a["width"] - b["width"]) < 2
    assert b["y"] > a["y"]  # 10 h 30 below 10 h 00
    expect(page.locator(".room-window")).to_have_count(3)
    expect(martin.locator(".invitee")).to_have_text("Dr Luc MOREAU : invitation envoyée, lien pas encore ouvert")
    if dupont.locator(".invitee[data-status=opened]").count():  # the API test opened her link
        expect(dupont.locator(".invitee")).to_have_text("Dr Claire PETIT : a ouvert son lien")
    shot(page, artifacts, "agenda-2-demain-matin.png")
    check_screen(page, "agenda, demain")

    leroy.scroll_into_view_if_needed()
    failed = leroy.locator(".invitee")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("Dr Anne ROUX : invitation non remise")
    expect(failed).to_have_css("color", "rgb(179, 38, 30)")
    # Free slots around them, none under a consultation that holds the cart.
    slots = page.locator(".free-slot")
    expect(slots.first).to_be_attached()
    taken = {f"{cart.day.isoformat()}T{t}" for t in ("10:00", "10:30", "14:00")}
    assert not taken & set(slots.evaluate_all("els => els.map((e) => e.dataset.slot)"))
    shot(page, artifacts, "agenda-3-demain-apres-midi.png")


def test_the_week_view(page: Page, cart: Cart, artifacts: Path) -> None:
    open_agenda(page, cart)
    page.get_by_role("button", name="Jour suivant").tap()
    expect(page.locator(".agenda-col")).to_have_attribute("data-day", cart.day.isoformat())
    page.get_by_role("button", name="Semaine", exact=True).tap()
    expect(page.locator(".agenda-col")).to_have_count(7)
    column = page.locator(f".agenda-col[data-day='{cart.day.isoformat()}']")
    expect(column.locator(".agenda-item")).to_have_count(3)
    expect(column.locator(".agenda-item.overlap")).to_have_count(2)
    expect(column.locator(".agenda-item.unreached")).to_have_count(1)
    expect(page.locator(".agenda-when")).to_contain_text("Semaine du")
    shot(page, artifacts, "agenda-4-semaine.png")
    check_screen(page, "agenda, semaine")
    # The week of today: today's column marked, "now" drawn in it.
    page.get_by_role("button", name="Aujourd'hui", exact=True).tap()
    today = datetime.now(PARIS).date().isoformat()
    expect(page.locator(".agenda-col.today")).to_have_attribute("data-day", today)
    expect(page.locator(".agenda-days .day-name.today")).to_have_attribute("aria-current", "date")
    shot(page, artifacts, "agenda-5-semaine-en-cours.png")
    # A day's name opens that day.
    page.locator(".agenda-days .day-name.today").tap()
    expect(page.locator(".agenda-col")).to_have_count(1)
    expect(page.locator(".agenda-col")).to_have_attribute("data-day", today)


def test_a_free_slot_opens_the_wizard_with_that_time_and_creates_there(page: Page, cart: Cart, artifacts: Path) -> None:
    open_agenda(page, cart)
    page.get_by_role("button", name="Jour suivant").tap()
    slot = page.locator(f".free-slot[data-slot='{cart.day.isoformat()}T16:00']")
    slot.scroll_into_view_if_needed()
    expect(slot).to_have_attribute("aria-label", re.compile(r"Programmer une téléconsultation .* à 16 h 00"))
    slot.tap()
    expect(page).to_have_url(re.compile(r"#/nouvelle$"))
    expect(page.locator(".toast")).to_contain_text("Créneau choisi dans l'agenda : demain, 16 h 00")
    shot(page, artifacts, "agenda-6-assistant-creneau-choisi.png")

    page.locator("#resident-q").fill("Dupont")
    row = page.locator("table.records tbody tr").filter(has_text="DUPONT Marcel")
    row.get_by_role("button", name="Choisir").tap()
    for step in ("Validation de l'identité", "Consentement"):
        expect(page.locator(".stepbar li[aria-current=step]")).to_contain_text(step)
        if step == "Validation de l'identité":  # the card loaded: "Suivant" no longer moves under the finger
            expect(page.locator(".identity-name")).to_have_text("DUPONT Marcel")
        if step == "Consentement":
            page.locator("label.big-choice", has_text="Consentement recueilli").tap()
        page.get_by_role("button", name="Suivant", exact=True).tap()
    page.locator("label.big-choice", has_text="Résident seul avec l'équipe soignante").tap()
    page.get_by_role("button", name="Suivant", exact=True).tap()
    page.locator("#directory-search").fill("Moreau")
    page.locator(".list.directory label.big-choice", has_text="Dr Luc Moreau").tap()
    page.get_by_role("button", name="Suivant", exact=True).tap()
    # The slot step: "Programmer" chosen, the date and time of the slot tapped.
    expect(page.locator(".stepbar li[aria-current=step]")).to_contain_text("Créneau")
    expect(page.locator("#slot-date")).to_have_value(cart.day.strftime("%d/%m/%Y"))
    expect(page.locator("#slot-time")).to_have_value("16:00")
    expect(page.locator(".wizard-step .said")).to_contain_text("demain, 16 h 00 ; la salle ouvre à 15 h 45")
    shot(page, artifacts, "agenda-7-assistant-etape-creneau.png")
    page.get_by_role("button", name="Suivant", exact=True).tap()
    expect(page.locator("dl.summary")).to_contain_text("demain, 16 h 00 · 30 min")
    page.get_by_role("button", name="Créer le télédossier et inviter", exact=True).tap()
    expect(page).to_have_url(re.compile(r"#/dossier/[0-9a-f-]{36}$"))
    created = page.url.rsplit("/", 1)[1]

    # Back in the agenda: the new consultation at 16 h 00, on its own.
    page.get_by_role("navigation").get_by_role("button", name="Agenda").tap()
    page.get_by_role("button", name="Jour suivant").tap()
    new = page.locator(f"[data-agenda-item='{created}']")
    expect(new).to_contain_text("16 h 00 – 16 h 30")
    expect(new).to_contain_text("DUPONT Marcel")
    expect(new).not_to_have_class(re.compile(r"\boverlap\b"))
    expect(page.locator(f".free-slot[data-slot='{cart.day.isoformat()}T16:00']")).to_have_count(0)


def test_a_consultation_opens_its_dossier(page: Page, cart: Cart) -> None:
    open_agenda(page, cart)
    page.get_by_role("button", name="Jour suivant").tap()
    leroy = item(page, cart, "LEROY")
    leroy.scroll_into_view_if_needed()
    leroy.tap()
    expect(page).to_have_url(re.compile(f"#/dossier/{cart.ids['LEROY']}$"))
    expect(page.locator(".dossier-page h1")).to_contain_text("LEROY Paul")
