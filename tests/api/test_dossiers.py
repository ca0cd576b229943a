"""Creating a teleconsultation dossier (the wizard's validation): consent, accompaniment,
specialist, slot, and the invitations that leave by a real SMTP relay and a real HTTP SMS gateway
on loopback; refused whole when any part is wrong; the state machine; the wizard's draft."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from agent.access.roles import Role
from agent.clock import clock_time
from agent.store.database import DATABASE_NAME
from tests.api.helpers import MessagingCart, assert_error, assert_french, audit_items, logged_in, patient
from tests.live import free_port, running_agent
from tests.loopback import Inbox, SmsGateway, eventually, link_in, sms_gateway, smtp_server

BEARER = "passerelle-secret"


@dataclass
class Cart(MessagingCart):
    def resident(self) -> str:
        reply = self.nurse.post(self.url("/patients"), json=patient())
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def professional(self, **fields: object) -> int:
        body = {"name": "ROUX", "first_name": "Antoine", "specialty": "Dermatologie", "rpps": "10003456789",
                "email": "antoine.roux@chu.example", "mobile": "06 12 34 56 01", **fields}
        reply = self.admin.post(self.url("/directory"), json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def emails_to(self, address: str) -> list:
        return [r.message for r in self.inbox.received if address in r.recipients]

    def texts_to(self, number: str) -> list[str]:
        return [t["text"] for t in self.sms.texts if t["to"] == number]


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    inbox, gateway = Inbox(), SmsGateway()
    port = free_port()
    with smtp_server(inbox) as smtp_port, sms_gateway(gateway) as sms_url, running_agent(
        tmp_path_factory.mktemp("dossiers"), port=port,
        server={"public_url": f"http://127.0.0.1:{port}"},
        dossiers={"establishment": "EHPAD Les Tilleuls"},
        mail={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none", "sender": "Chariot <chariot@tilleuls.example>"},
        sms={"gateway_url": sms_url, "bearer_token": BEARER},
    ) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        yield Cart(agent, inbox, gateway, nurse, admin)


def request(patient_id: str, **parts: object) -> dict:
    body: dict = {
        "patient_id": patient_id,
        "consent": {"given": True},
        "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "claire.petit@chu.example"},
        "slot": {"now": True, "duration_minutes": 30},
        "confirm_overlap": True,  # many "now" consultations on one cart here; the rule has its own test
    }
    body.update(parts)
    return body


def create(cart: Cart, body: dict) -> dict:
    reply = cart.nurse.post(cart.url("/dossiers"), json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_specialist_from_the_directory_gets_an_email_and_an_sms_whose_link_opens_the_room(cart: Cart) -> None:
    pro = cart.professional(email="roux.derm@chu.example", mobile="0612345611")
    dossier = create(cart, request(cart.resident(), specialist={"directory_id": pro}))
    assert dossier["state"] == "scheduled"
    assert dossier["specialist"]["specialty"] == "Dermatologie"
    [invitation] = dossier["invitations"]
    assert invitation["role"] == "specialist"

    [email] = eventually(lambda: cart.emails_to("roux.derm@chu.example"))
    assert email["From"] == "Chariot <chariot@tilleuls.example>"
    assert "EHPAD Les Tilleuls" in email["Subject"]
    text = email.get_content()
    assert text.startswith("Bonjour Docteur Roux,")
    assert "La salle ouvre" in text and "ne le transférez pas" in text
    [sms] = eventually(lambda: cart.texts_to("+33612345611"))
    assert cart.sms.authorizations[-1] == f"Bearer {BEARER}"
    assert link_in(sms) == link_in(text) == invitation["link"]

    # Seed 001: the specialist's link lands on the dossier (a one-time code opens it); the call is
    # one tap away (?vue=appel), with a way back to the dossier.
    page = requests.get(link_in(text))
    assert page.status_code == 200 and "/static/specialist/app.js" in page.text
    call_page = requests.get(link_in(text) + "?vue=appel")
    assert call_page.status_code == 200 and "/static/call/join.js" in call_page.text and "?vue=dossier" in call_page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"

    # The dossier page shows both messages as sent.
    shown = eventually(lambda: [d for d in cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["invitations"][0]["deliveries"]
                                if d["state"] == "sent"] or None)
    assert sorted(d["channel"] for d in shown) == ["email", "sms"]


def test_the_invitation_names_no_patient(cart: Cart) -> None:
    reply = cart.nurse.post(cart.url("/patients"), json=patient(birth_name="CONFIDENTIEL", confirm_duplicate=True))
    dossier = create(cart, request(reply.json()["id"], specialist={**request("x")["specialist"], "email": "discret@chu.example"}))
    [email] = eventually(lambda: cart.emails_to("discret@chu.example"))
    assert "CONFIDENTIEL" not in email.get_content() and "CONFIDENTIEL" not in email["Subject"]
    assert dossier["patient"]["display_name"].startswith("CONFIDENTIEL")


def test_a_scheduled_link_says_when_the_room_opens(cart: Cart) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=13, minute=30, second=0, microsecond=0)  # 14 h 30 in Paris
    dossier = create(cart, request(cart.resident(), slot={"start": start.isoformat(), "duration_minutes": 20}))
    assert dossier["room"]["opens_at"] == (start - timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert dossier["room"]["closes_at"] == (start + timedelta(minutes=20 + 45)).isoformat().replace("+00:00", "Z")
    page = requests.get(dossier["invitations"][0]["link"])
    assert page.status_code == 200
    assert "pas encore ouverte" in page.text and "14 h 15" in page.text and "15 h 35" in page.text


def test_revoked_forged_and_foreign_links_are_refused_with_a_french_page(cart: Cart) -> None:
    first = create(cart, request(cart.resident()))
    second = create(cart, request(cart.resident()))
    link = first["invitations"][0]["link"]
    base, room, token = link.rsplit("/", 2)
    other_room = second["room"]["id"]

    foreign = requests.get(f"{base}/{other_room}/{token}")
    assert foreign.status_code == 403 and "autre salle" in foreign.text
    forged = requests.get(f"{base}/{room}/{token[:-3]}abc")
    assert forged.status_code == 404 and "pas reconnu" in forged.text
    cut = requests.get(f"{base}/{room}/{token.split('.')[0]}")
    assert cut.status_code == 404 and "incomplet" in cut.text

    revoked = cart.nurse.delete(cart.url(f"/dossiers/{first['id']}/invitations/{first['invitations'][0]['id']}"))
    assert revoked.status_code == 200 and revoked.json()["invitations"][0]["revoked_at"]
    page = requests.get(link)
    assert page.status_code == 403 and "annulé cette invitation" in page.text
    assert "Traceback" not in page.text
    resend = cart.nurse.post(cart.url(f"/dossiers/{first['id']}/invitations/{first['invitations'][0]['id']}/resend"))
    assert_error(resend, 409, "invitation_revoked")


def test_a_link_after_its_window_says_the_room_is_closed(cart: Cart) -> None:
    dossier = create(cart, request(cart.resident()))
    # Waiting 75 minutes is not a test: move the room's window into the past, as time would.
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE rooms SET opens_at = '2026-01-05T09:00:00Z', closes_at = '2026-01-05T10:15:00Z' WHERE id = ?",
                   [dossier["room"]["id"]])
    db.close()
    page = requests.get(dossier["invitations"][0]["link"])
    assert page.status_code == 410 and "Salle fermée" in page.text and "5 janvier 2026 à 11 h 15" in page.text


def test_opening_a_link_is_audited_under_the_specialists_name(cart: Cart) -> None:
    resident = cart.resident()
    dossier = create(cart, request(resident, specialist={"name": "GARNIER", "first_name": "Marc", "specialty": "ORL", "mobile": "0612345622"}))
    requests.get(dossier["invitations"][0]["link"])
    opened = [r for r in audit_items(cart.agent, cart.admin, patient_id=resident) if r["action"] == "invitation.open"]
    assert [r["actor"] for r in opened] == ["GARNIER Marc (Médecin requis)"]
    actions = {r["action"] for r in audit_items(cart.agent, cart.admin, patient_id=resident)}
    assert {"consent.record", "dossier.create", "invitation.send"} <= actions


def test_a_remote_relative_is_invited_a_present_one_is_not(cart: Cart) -> None:
    remote = create(cart, request(cart.resident(), accompaniment={"kind": "relative", "companion": {
        "name": "LEFEBVRE", "first_name": "Paul", "remote": True, "email": "paul@famille.example"}}))
    assert sorted(i["role"] for i in remote["invitations"]) == ["relative", "specialist"]
    [email] = eventually(lambda: cart.emails_to("paul@famille.example"))
    assert email.get_content().startswith("Bonjour Paul Lefebvre,")
    page = requests.get(link_in(email.get_content()))
    assert "/static/call/join.js" in page.text and 'data-name="Paul LEFEBVRE"' in page.text
    assert "?vue=dossier" not in page.text  # the dossier is the specialist's alone

    present = create(cart, request(cart.resident(), accompaniment={"kind": "professional", "companion": {"name": "KINE"}}))
    assert [i["role"] for i in present["invitations"]] == ["specialist"]
    assert present["accompaniment"]["companion"] == {"name": "KINE", "first_name": None, "email": None, "mobile": None, "remote": False}


def test_consent_records_who_collected_it_and_why_it_is_missing(cart: Cart) -> None:
    given = create(cart, request(cart.resident()))
    assert given["consent"]["given"] is True and given["consent"]["collected_by"].startswith("nurse")
    refused = create(cart, request(cart.resident(), consent={"given": False, "comment": "Résidente hors d'état d'exprimer sa volonté, tutelle prévenue"}))
    assert refused["consent"] == {**refused["consent"], "given": False, "comment": "Résidente hors d'état d'exprimer sa volonté, tutelle prévenue"}


def dossier_count(cart: Cart) -> int:
    return cart.nurse.get(cart.url("/dossiers")).json()["total"]


def queued_messages(cart: Cart) -> int:
    """Emails and SMS ever queued (sent or not): earlier tests' messages may still be leaving."""
    db = sqlite3.connect(f"file:{cart.agent.data_dir / DATABASE_NAME}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize(("part", "value", "words"), [
    ("consent", {"given": False}, "commentaire"),
    ("accompaniment", {"kind": "relative", "companion": {"name": "X", "remote": True}}, "e-mail ou son téléphone"),
    ("accompaniment", {"kind": "relative"}, "nom de l'accompagnant"),
    ("specialist", {"name": "PETIT", "specialty": "Cardiologie"}, "médecin requis"),
    ("specialist", {"name": "PETIT", "specialty": "Cardiologie", "email": "pas-une-adresse"}, "e-mail"),
    ("specialist", {"name": "PETIT", "specialty": "Cardiologie", "mobile": "0142424242"}, "portable"),
    ("specialist", {"name": "PETIT", "specialty": "Cardiologie", "email": "a@b.example", "rpps": "123"}, "RPPS"),
    ("slot", {"now": True, "start": "2030-01-01T10:00:00+01:00"}, "l'un des deux"),
    ("slot", {"start": "2030-01-01T10:00:00"}, "début"),
    ("slot", {"now": True, "duration_minutes": 600}, "durée"),
])
def test_any_wrong_part_refuses_the_whole_dossier(cart: Cart, part: str, value: object, words: str) -> None:
    before = dossier_count(cart)
    queued_before = queued_messages(cart)
    reply = cart.nurse.post(cart.url("/dossiers"), json=request(cart.resident(), **{part: value}))
    body = assert_error(reply, 422, "invalid_request")
    assert words in body["message"], body["message"]
    assert dossier_count(cart) == before
    assert queued_messages(cart) == queued_before


@pytest.mark.parametrize(("change", "code"), [
    ({"patient_id": "inconnu"}, "patient_unknown"),
    ({"specialist": {"directory_id": 99999}}, "specialist_unknown"),
    ({"slot": {"start": "2020-01-01T10:00:00+01:00", "duration_minutes": 30}}, "slot_in_past"),
])
def test_domain_rules_refuse_the_whole_dossier(cart: Cart, change: dict, code: str) -> None:
    before = dossier_count(cart)
    assert_error(cart.nurse.post(cart.url("/dossiers"), json={**request(cart.resident()), **change}), 422, code)
    assert dossier_count(cart) == before


def test_one_cart_one_room_an_overlapping_slot_is_refused_unless_confirmed(cart: Cart) -> None:
    """Seed 000 §2.2: the cart is one device. A second consultation on a slot it already holds is
    refused, naming the other one; the nurse may confirm (two doctors one after the other, a slot
    that ran late), which the audit trail says."""
    day = (datetime.now(UTC) + timedelta(days=400)).replace(hour=9, minute=0, second=0, microsecond=0)
    at = lambda minutes, length=30: {"start": (day + timedelta(minutes=minutes)).isoformat(), "duration_minutes": length}  # noqa: E731
    first_resident = cart.resident()
    first = create(cart, request(first_resident, slot=at(0), confirm_overlap=False))
    before = dossier_count(cart)

    body = assert_error(cart.nurse.post(cart.url("/dossiers"), json=request(cart.resident(), slot=at(15), confirm_overlap=False)),
                        409, "slot_overlap")
    paris = ZoneInfo("Europe/Paris")
    assert f"Dr Claire Petit, de {clock_time(day, paris)} à {clock_time(day + timedelta(minutes=30), paris)}" in body["message"]
    assert first["patient"]["display_name"].split()[0] in body["message"]
    assert [o["dossier_id"] for o in body["overlaps"]] == [first["id"]]
    assert "patient_id" not in body["overlaps"][0]
    assert dossier_count(cart) == before
    # Showing the other resident's name is a reading of their data: audited although nothing was made.
    admin = logged_in(cart.agent, cart.agent.add_account(Role.ADMIN))
    assert any(r["action"] == "dossier.list" and "créneau déjà pris" in r["detail"]
               for r in audit_items(cart.agent, admin, patient_id=first_resident))

    create(cart, request(cart.resident(), slot=at(30), confirm_overlap=False))  # right after: no overlap
    second_resident = cart.resident()
    confirmed = create(cart, request(second_resident, slot=at(10), confirm_overlap=True))
    created = [r for r in audit_items(cart.agent, admin, patient_id=second_resident) if r["action"] == "dossier.create"]
    assert f"chevauche le télédossier n° {first['id'][:8]} (confirmé)" in created[0]["detail"]

    # A cancelled consultation no longer holds the cart.
    for dossier in (first, confirmed):
        cancelled = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/cancellation"), json={"reason": "Résident hospitalisé"})
        assert cancelled.status_code == 200, cancelled.text
    create(cart, request(cart.resident(), slot=at(0, 20), confirm_overlap=False))


def test_states_follow_the_dossier_life_and_every_change_is_audited(cart: Cart) -> None:
    resident = cart.resident()
    dossier = create(cart, request(resident))
    move = lambda to: cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/transitions"), json={"to": to})  # noqa: E731
    body = assert_error(move("closed"), 409, "bad_transition")
    assert "Programmé" in body["message"]
    for state in ("in_progress", "awaiting_report"):
        reply = move(state)
        assert reply.status_code == 200 and reply.json()["state"] == state, reply.text
    # Only the consulted doctor's signature closes a dossier (seed 001 §4); the EHPAD cancels one, saying why.
    assert "signature" in assert_error(move("closed"), 409, "closed_by_signature_only")["message"]
    assert_error(move("cancelled"), 409, "cancel_needs_reason")
    cancelled = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/cancellation"), json={"reason": "Résident hospitalisé"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    assert cancelled.json()["cancellation"]["reason"] == "Résident hospitalisé"
    assert all(i["revoked_at"] for i in cancelled.json()["invitations"])
    assert_error(move("in_progress"), 409, "bad_transition")
    changes = [r["detail"] for r in audit_items(cart.agent, cart.admin, patient_id=resident) if r["action"] == "dossier.state"]
    assert len(changes) == 3 and any("En attente du compte rendu → Annulée" in c for c in changes)
    listed = {d["id"]: d["state"] for d in cart.nurse.get(cart.url("/dossiers")).json()["items"]}
    assert listed[dossier["id"]] == "cancelled"


def test_a_residents_consultations_name_their_doctor_and_are_audited_as_such(cart: Cart) -> None:
    resident, other = cart.resident(), cart.resident()
    professional = cart.professional(rpps="10009876543")
    chosen = create(cart, request(resident, specialist={"directory_id": professional}))
    typed = create(cart, request(resident))
    create(cart, request(other))
    listed = cart.nurse.get(cart.url("/dossiers"), params={"patient_id": resident}).json()
    assert listed["total"] == 2 and {d["id"] for d in listed["items"]} == {chosen["id"], typed["id"]}
    by_id = {d["id"]: d for d in listed["items"]}
    assert (by_id[chosen["id"]]["specialist_directory_id"], by_id[chosen["id"]]["specialist_rpps"]) == (professional, "10009876543")
    assert by_id[typed["id"]]["specialist_directory_id"] is None and by_id[typed["id"]]["specialist"] == "Dr Claire Petit"
    details = [r["detail"] for r in audit_items(cart.agent, cart.admin, patient_id=resident) if r["action"] == "dossier.list"]
    assert any(d.startswith("consultations du résident") for d in details)
    assert cart.nurse.get(cart.url("/dossiers"), params={"patient_id": "personne"}).json() == {"items": [], "total": 0}


def test_the_wizard_draft_is_per_user_and_dropped_by_the_dossier(cart: Cart) -> None:
    other = logged_in(cart.agent, cart.agent.add_account(Role.NURSE))
    draft = {"step": 3, "consent": {"given": True, "comment": ""}, "search": {"name": "Dupond"}}
    assert cart.nurse.put(cart.url("/wizard/draft"), json={"draft": draft}).status_code == 200
    assert cart.nurse.get(cart.url("/wizard/draft")).json() == {"draft": draft}
    assert other.get(cart.url("/wizard/draft")).json() == {"draft": None}
    create(cart, request(cart.resident()))
    assert cart.nurse.get(cart.url("/wizard/draft")).json() == {"draft": None}


def test_directory_is_kept_by_admins_and_read_by_nurses(cart: Cart) -> None:
    pro = cart.professional(name="NGUYEN", first_name="Linh", specialty="Gériatrie", email="linh@chu.example", mobile=None)
    refused = cart.nurse.post(cart.url("/directory"), json={"name": "X", "specialty": "Y", "email": "x@y.example"})
    assert_error(refused, 403, "forbidden")
    found = cart.nurse.get(cart.url("/directory"), params={"q": "geriatrie"}).json()["items"]
    assert [p["id"] for p in found] == [pro] and found[0]["display_name"] == "Dr Linh Nguyen"
    assert cart.admin.patch(cart.url(f"/directory/{pro}"), json={"active": False}).status_code == 200
    assert cart.nurse.get(cart.url("/directory"), params={"q": "geriatrie"}).json()["items"] == []
    assert_error(cart.nurse.post(cart.url("/dossiers"), json=request(cart.resident(), specialist={"directory_id": pro})), 422, "specialist_unknown")


def test_an_sms_waits_while_the_gateway_is_down_then_leaves(cart: Cart) -> None:
    cart.sms.status = 503
    try:
        dossier = create(cart, request(cart.resident(), specialist={**request("x")["specialist"], "mobile": "0612345699"}))
        path = f"/dossiers/{dossier['id']}"
        waiting = eventually(lambda: [d for d in cart.nurse.get(cart.url(path)).json()["invitations"][0]["deliveries"]
                                      if d["channel"] == "sms" and d["attempts"] >= 1] or None)
        assert waiting[0]["state"] == "pending"
        assert_french(waiting[0]["last_error"])
    finally:
        cart.sms.status = 200
    # The queue tries again by itself (first retry after 15 s); resending wakes it at once.
    cart.nurse.post(cart.url(f"{path}/invitations/{dossier['invitations'][0]['id']}/resend"))
    eventually(lambda: cart.texts_to("+33612345699"), timeout=30)


def test_visio_sms_invites_a_phone_number_at_once_without_a_dossier(cart: Cart) -> None:
    before = dossier_count(cart)
    started = cart.nurse.post(cart.url("/visio"), json={"mobile": "06 12 34 56 98"})
    assert started.status_code == 201, started.text
    [sms] = eventually(lambda: cart.texts_to("+33612345698"))
    assert "maintenant" in sms
    page = requests.get(link_in(sms))
    assert page.status_code == 200 and "/static/call/join.js" in page.text and 'data-name="Invité"' in page.text
    assert dossier_count(cart) == before
    assert_error(cart.nurse.post(cart.url("/visio"), json={}), 422, "invalid_request")
