"""Sending a PDF to the patient: the link by email (a real SMTP relay), the code by SMS (a real
gateway), the download, its expiry and its audit record."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import MessagingCart, agent_with_messages, assert_error, audit_items, logged_in, patient
from tests.documents import samples
from tests.loopback import eventually


@dataclass
class Cart(MessagingCart):
    def dossier_with(self, data: bytes, filename: str, **identity: object) -> tuple[str, str, str]:
        made = self.nurse.post(self.url("/patients"), json=patient(confirm_duplicate=True, **identity)).json()
        dossier = self.nurse.post(self.url("/dossiers"), json={
            "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
            "specialist": {"name": "PETIT", "specialty": "Cardiologie", "email": "c.petit@chu.example"}, "slot": {"now": True}, "confirm_overlap": True}).json()
        doc = self.nurse.post(self.url(f"/dossiers/{dossier['id']}/documents"), files={"file": (filename, data)}).json()
        return dossier["id"], doc["id"], made["id"]


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with agent_with_messages(tmp_path_factory.mktemp("share"), dossiers={"establishment": "EHPAD Les Tilleuls"}) as (agent, inbox, gateway):
        yield Cart(agent, inbox, gateway, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.ADMIN)))


def test_the_patient_downloads_the_pdf_with_a_code_received_by_sms(cart: Cart) -> None:
    pdf = samples.pdf(["Ordonnance", "Paracétamol 1 g"])
    dossier_id, doc_id, patient_id = cart.dossier_with(pdf, "ordonnance.pdf", birth_name="PARTAGE", email="jeanne@famille.example",
                                                       mobile="0612345691")
    sent = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents/{doc_id}/send"), json={})
    assert sent.status_code == 201, sent.text
    assert sent.json()["mobile"] == "+33 6 •• •• •• 91"
    [email] = eventually(lambda: [r.message for r in cart.inbox.received if "jeanne@famille.example" in r.recipients])
    text = email.get_content()
    assert "PARTAGE" not in text and "ordonnance" not in text.lower()  # neither the patient nor the document named
    link = re.search(r"http://\S+/d/[\w-]+", text).group(0)

    page = requests.get(link)
    assert page.status_code == 200 and "Un document vous attend" in page.text
    before = len(cart.sms.texts)
    asked = requests.post(f"{link}/code")
    assert asked.status_code == 200 and "+33 6 •• •• •• 91" in asked.text
    sms = eventually(lambda: [t["text"] for t in cart.sms.texts[before:] if t["to"] == "+33612345691"])[-1]
    code = re.search(r"\b(\d{6})\b", sms).group(1)

    wrong = requests.post(link, data={"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 401 and "Code incorrect" in wrong.text
    got = requests.post(link, data={"code": code})
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf" and got.content == pdf
    again = requests.post(link, data={"code": code})
    assert again.status_code == 401 and "expiré" in again.text  # a code downloads once
    records = [r for r in audit_items(cart.agent, cart.admin, patient_id=patient_id) if r["action"] in ("document.send", "document.download")]
    assert [(r["action"], r["outcome"]) for r in records].count(("document.download", "success")) == 1
    assert any(r["action"] == "document.send" for r in records)


def test_only_a_pdf_leaves_and_only_to_a_patient_with_email_and_mobile(cart: Cart) -> None:
    dossier_id, doc_id, _ = cart.dossier_with(samples.image("PNG"), "photo.png", email="a@b.example", mobile="0612345692")
    assert_error(cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents/{doc_id}/send"), json={}), 409, "not_a_pdf")
    dossier_id, doc_id, _ = cart.dossier_with(samples.pdf(), "cr.pdf", email="a@b.example")
    assert_error(cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents/{doc_id}/send"), json={}), 422, "patient_unreachable")
    given = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents/{doc_id}/send"), json={"mobile": "06 12 34 56 93"})
    assert given.status_code == 201


def test_an_expired_or_unknown_link_says_so(cart: Cart) -> None:
    dossier_id, doc_id, _ = cart.dossier_with(samples.pdf(), "cr.pdf", email="x@y.example", mobile="0612345694")
    cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents/{doc_id}/send"), json={})
    [email] = eventually(lambda: [r.message for r in cart.inbox.received if "x@y.example" in r.recipients])
    link = re.search(r"http://\S+/d/[\w-]+", email.get_content()).group(0)
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE patient_shares SET expires_at = 1 WHERE document_id = ?", [doc_id])  # days passing
    db.close()
    expired = requests.get(link)
    assert expired.status_code == 410 and "a expiré" in expired.text
    assert requests.post(f"{link}/code").status_code == 410
    unknown = requests.get(link[:-4] + "abcd")
    assert unknown.status_code == 404 and "pas reconnu" in unknown.text


def test_end_of_consultation_rates_charges_and_sends_or_records_nothing(cart: Cart) -> None:
    dossier_id, pdf_id, patient_id = cart.dossier_with(samples.pdf(), "ordonnance.pdf", email="fin@famille.example", mobile="0612345695")
    photo = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents"), files={"file": ("photo.png", samples.image("PNG"))}).json()
    cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/transitions"), json={"to": "in_progress"})
    end = f"/dossiers/{dossier_id}/end"

    assert_error(cart.nurse.post(cart.url(end), json={"rating": 4, "send": [pdf_id, photo["id"]]}), 409, "not_a_pdf")
    assert cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()["state"] == "in_progress"  # nothing half-recorded
    assert_error(cart.nurse.post(cart.url(end), json={"rating": 6}), 422, "invalid_request")

    ended = cart.nurse.post(cart.url(end), json={"rating": 4, "comment": "Image un peu sombre", "amount_cents": 2500, "send": [pdf_id],
                                                 "also_to": [{"email": "dr.traitant@cabinet.example", "mobile": "0612345696"}]})
    assert ended.status_code == 200, ended.text
    assert ended.json() == {"sent": 1, "state": "awaiting_report"}
    eventually(lambda: [r for r in cart.inbox.received if "fin@famille.example" in r.recipients])
    eventually(lambda: [r for r in cart.inbox.received if "dr.traitant@cabinet.example" in r.recipients])
    details = [r["detail"] for r in audit_items(cart.agent, cart.admin, patient_id=patient_id) if r["action"] == "consultation.end"]
    assert details == ["note 4/5, 25,00 €"]
