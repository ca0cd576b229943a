"""Every change to health data leaves a typed entry in the outbox, the queue the sync worker will
drain to the regional server: each write route is called as its user would, and the outbox must
have grown with the right kinds, and payloads the typed models read back. A write route added
later without an entry here fails the last test."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from agent.api.routes import API as ROUTES
from agent.store.changes import Change
from agent.store.database import DATABASE_NAME
from tests.api.helpers import CartBase, logged_in, patient
from tests.documents import samples
from tests.live import free_port, running_agent
from tests.loopback import SmsGateway, eventually, sms_gateway

PAYLOADS: dict[str, list[type[Change]]] = {}
for model in Change.__subclasses__():
    PAYLOADS.setdefault(model.kind.value, []).append(model)

# Write routes that change no health data the regional server keeps, and why.
NOT_SYNCED = {
    ("PUT", "/api/v1/cameras/active"): "which camera is shown: the cart's state, not the dossier's",
    ("PUT", "/api/v1/me/signature"): "a staff member's own signature image: the cart's, not a dossier's (a document signed with it is synced)",
    ("POST", "/api/v1/dossiers/{id}/mssante"): "a message to a professional's MSSanté mailbox: audited on the cart; what it carries is synced already",
    ("PUT", "/api/v1/links/{room}/{token}/signature-image"): "a specialist's own signature image, the same (their prescriptions are synced)",
    ("PUT", "/api/v1/wizard/draft"): "a nurse's unfinished form: stays on the cart until it becomes a dossier",
    ("PUT", "/api/v1/dossiers/{id}/fiche/draft"): "what a nurse is typing before « Enregistrer la fiche »: her working copy, not the record",
    ("DELETE", "/api/v1/visio/{room}/call"): "leaving a Visio SMS room: no dossier",
    ("POST", "/api/v1/visio/{room}/call"): "entering a Visio SMS room: no dossier",
    ("POST", "/api/v1/call/snapshot"): "covered by tests/call (a photo: a document entry through the same intake as uploads)",
    ("POST", "/api/v1/cameras/snapshot"): "a photo handed to the kiosk and saved nowhere; the téléexpertise request uploads it "
                                           "as a document (POST /dossiers/{id}/documents, walked above)",
    ("POST", "/api/v1/sensors/{id}/measure"): "a blood pressure cuff told to inflate: the device's business; its result, recorded, is synced",
    ("POST", "/api/v1/vitals/checkup"): "a check-up begins: values measured before are no longer offered (the cart's state)",
    ("POST", "/api/v1/practice"): "the practice mode starts: demo data in a store of its own, never synced (tests/api/test_practice.py)",
}


@dataclass
class Cart(CartBase):
    sms: SmsGateway
    nurse: requests.Session
    doctor: requests.Session

    def outbox(self) -> list[dict]:
        db = sqlite3.connect(self.agent.data_dir / DATABASE_NAME)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM outbox ORDER BY id")]
        finally:
            db.close()


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    gateway = SmsGateway()
    port = free_port()
    with sms_gateway(gateway) as url, running_agent(tmp_path_factory.mktemp("outbox"), port=port, sms={"gateway_url": url},
                                                     server={"public_url": f"http://127.0.0.1:{port}"}) as agent:
        yield Cart(agent, gateway, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.DOCTOR)))


def new_entries(cart: Cart, before: int, reply: requests.Response, status: int) -> set[tuple[str, str]]:
    assert reply.status_code == status, reply.text
    entries = cart.outbox()[before:]
    for entry in entries:  # each payload reads back as its kind's model
        payload = json.loads(entry["payload"])
        assert any(_reads(model, payload) for model in PAYLOADS[entry["entity"]]), entry
    return {(e["entity"], e["operation"]) for e in entries}


def _reads(model: type[Change], payload: dict) -> bool:
    try:
        model.model_validate(payload)
    except ValueError:
        return False
    return True


def test_every_write_of_health_data_enters_the_outbox_typed(cart: Cart) -> None:
    walked: set[tuple[str, str]] = set()

    def step(method: str, route: str, path: str, expected: set[tuple[str, str]], client: requests.Session | None = None,
             status: int = 200, **kwargs: object) -> requests.Response:
        before = len(cart.outbox())
        reply = (client or cart.nurse).request(method, cart.url(path), **kwargs)
        got = new_entries(cart, before, reply, status)
        assert expected <= got, (method, route, got)
        walked.add((method, "/api/v1" + route))
        return reply

    made = step("POST", "/patients", "/patients", {("patient", "create")}, status=201,
                json=patient(birth_name="SYNC", mobile="0612340001", email="sync@example.org", confirm_duplicate=True)).json()
    step("PATCH", "/patients/{id}", f"/patients/{made['id']}", {("patient", "update")}, json={"used_name": "MARIÉE"})
    dossier = step("POST", "/dossiers", "/dossiers", {("consent", "create"), ("dossier", "create"), ("participant", "create"),
                                                      ("invitation", "create")}, status=201, json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "mobile": "0612340002"},
        "slot": {"now": True}, "confirm_overlap": True}).json()
    base = f"/dossiers/{dossier['id']}"
    invited = step("POST", "/dossiers/{id}/invitations", f"{base}/invitations", {("participant", "create"), ("invitation", "create")}, status=201,
                   json={"role": "relative", "name": "SYNC", "first_name": "Paul", "mobile": "0612340003"}).json()
    relative = next(i for i in invited["invitations"] if i["role"] == "relative")
    step("POST", "/dossiers/{id}/invitations/{invitation}/resend", f"{base}/invitations/{relative['id']}/resend",
         {("invitation", "send")})
    step("DELETE", "/dossiers/{id}/invitations/{invitation}", f"{base}/invitations/{relative['id']}", {("invitation", "revoke")})
    step("POST", "/dossiers/{id}/invitations/{invitation}/reinvitation", f"{base}/invitations/{relative['id']}/reinvitation",
         {("invitation", "create")}, status=201)
    step("POST", "/dossiers/{id}/call", f"{base}/call", {("dossier", "state")})
    step("DELETE", "/dossiers/{id}/call", f"{base}/call", set())  # leaving is not ending: the state stays (audited, not synced)
    step("POST", "/dossiers/{id}/transitions", f"{base}/transitions", {("dossier", "state")}, json={"to": "awaiting_report"})
    step("PATCH", "/dossiers/{id}/fiche", f"{base}/fiche", {("fiche", "update")}, json={"history": "Diabète de type 2"})
    step("POST", "/dossiers/{id}/vitals", f"{base}/vitals", {("vital", "create")}, status=201, json={"kind": "temperature", "value": "37,8"})
    held = eventually(lambda: cart.nurse.get(cart.url("/vitals/live")).json()["held"], timeout=20, what="a simulated sensor's steady value")
    step("POST", "/dossiers/{id}/vitals/measured", f"{base}/vitals/measured", {("vital", "create")}, status=201,
         json={"values": [{"kind": held[0]["kind"], "sensor": held[0]["sensor"]}]})
    doc = step("POST", "/dossiers/{id}/documents", f"{base}/documents", {("document", "create")}, status=201,
               files={"file": ("ordonnance.pdf", samples.pdf())}, data={"kind": "ordonnance"}).json()
    step("PATCH", "/dossiers/{id}/documents/{document}", f"{base}/documents/{doc['id']}", {("document", "update")},
         json={"name": "Ordonnance du jour"})
    assert cart.doctor.put(cart.url("/me/signature"), files={"file": ("signature.jpg", samples.signature_image())}).status_code == 204
    step("POST", "/dossiers/{id}/documents/{document}/signature", f"{base}/documents/{doc['id']}/signature", {("document", "sign")},
         client=cart.doctor)
    step("POST", "/dossiers/{id}/documents/{document}/send", f"{base}/documents/{doc['id']}/send", {("patient_share", "create")},
         status=201, json={})

    # The specialist, through their link and its one-time code.
    room, token = dossier["invitations"][0]["link"].rsplit("/", 2)[-2:]
    link = f"/links/{room}/{token}"
    guest = requests.Session()
    before_sms = len(cart.sms.texts)
    guest.post(cart.url(f"{link}/code"))
    code = re.search(r"\b(\d{6})\b", eventually(lambda: [t["text"] for t in cart.sms.texts[before_sms:] if "code" in t["text"]])[-1]).group(1)
    guest.headers["X-CSRF-Token"] = guest.post(cart.url(f"{link}/session"), json={"code": code}).json()["csrf_token"]
    step("PATCH", "/links/{room}/{token}/fiche", f"{link}/fiche", {("fiche", "update")}, client=guest,
         json={"expert_opinion": "Pas de signe de gravité."})
    assert guest.put(cart.url(f"{link}/signature-image"), files={"file": ("signature.png", samples.signature_image())}).status_code == 200
    added = step("POST", "/links/{room}/{token}/documents", f"{link}/documents", {("document", "create")}, client=guest, status=201,
                 files={"file": ("courrier.pdf", samples.pdf())}, data={"kind": "courrier"}).json()
    step("POST", "/links/{room}/{token}/prescriptions", f"{link}/prescriptions", {("document", "create")}, client=guest, status=201,
         json={"medicines": [{"name": "Paracétamol 1 g", "dosage": "1 comprimé si douleur"}]})
    step("POST", "/links/{room}/{token}/documents/{document}/send", f"{link}/documents/{added['id']}/send", {("patient_share", "create")},
         client=guest, status=201, json={})
    step("POST", "/links/{room}/{token}/invitations", f"{link}/invitations", {("participant", "create"), ("invitation", "create")},
         client=guest, status=201, json={"access": "dossier", "name": "BLANC", "first_name": "Marc", "mobile": "0612340005"})
    step("POST", "/dossiers/{id}/end", f"{base}/end", {("consultation_end", "create")}, json={"rating": 5})
    step("POST", "/links/{room}/{token}/signature", f"{link}/signature", {("signature", "create"), ("dossier", "state")}, client=guest)

    # A second dossier, signed by the cart's own doctor.
    second = cart.nurse.post(cart.url("/dossiers"), json={
        "patient_id": made["id"], "consent": {"given": False, "comment": "Urgence, famille prévenue"}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "mobile": "0612340002"},
        "slot": {"now": True}, "confirm_overlap": True, "reason": "Contrôle"}).json()
    cart.nurse.post(cart.url(f"/dossiers/{second['id']}/transitions"), json={"to": "in_progress"})
    cart.doctor.patch(cart.url(f"/dossiers/{second['id']}/fiche"), json={"expert_opinion": "Rien à signaler."})
    step("POST", "/dossiers/{id}/signature", f"/dossiers/{second['id']}/signature", {("signature", "create"), ("dossier", "state")},
         client=cart.doctor)
    third = cart.nurse.post(cart.url("/dossiers"), json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "specialty": "Cardiologie", "mobile": "0612340002"}, "slot": {"now": True}, "confirm_overlap": True}).json()
    step("POST", "/dossiers/{id}/cancellation", f"/dossiers/{third['id']}/cancellation", {("dossier", "state"), ("invitation", "revoke")},
         json={"reason": "Résident hospitalisé"})
    step("POST", "/visio", "/visio", {("participant", "create"), ("invitation", "create")}, status=201, json={"mobile": "0612340004"})
    step("POST", "/expertises", "/expertises", {("consent", "create"), ("dossier", "create"), ("participant", "create"), ("invitation", "create")},
         status=201, json={"patient_id": made["id"], "consent": {"given": True}, "reason": "Plaie", "question": "Avis ?", "deadline_hours": 48,
                           "specialist": {"name": "PETIT", "specialty": "Dermatologie", "mobile": "0612340002"}})

    health_writes = {(op.method, op.path) for op in ROUTES.operations if op.method in ("POST", "PATCH", "PUT", "DELETE")
                     and (getattr(op.access, "value", op.access) in ("health.write", "guest"))}
    assert health_writes - walked - set(NOT_SYNCED) == set()
