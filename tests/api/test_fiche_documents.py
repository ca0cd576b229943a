"""The dossier's form, vitals, documents and signature, then its report PDF and export: what a
nurse fills during the call, what the specialist signs, and what leaves the cart afterwards."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from PIL import Image
from pypdf import PdfReader

from agent.access.roles import Role
from tests.api.helpers import CartBase, assert_error, audit_items, logged_in, patient
from tests.documents import samples
from tests.live import running_agent


@dataclass
class Cart(CartBase):
    nurse: requests.Session
    doctor: requests.Session
    admin: requests.Session

    def dossier(self, birth_name: str = "REPORT") -> tuple[str, str]:
        made = self.nurse.post(self.url("/patients"), json=patient(birth_name=birth_name, confirm_duplicate=True))
        assert made.status_code == 201, made.text
        reply = self.nurse.post(self.url("/dossiers"), json={
            "patient_id": made.json()["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
            "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "c.petit@chu.example"},
            "slot": {"now": True}, "confirm_overlap": True})
        assert reply.status_code == 201, reply.text
        return reply.json()["id"], made.json()["id"]

    def upload(self, dossier_id: str, data: bytes, filename: str, client: requests.Session | None = None, **fields: str) -> requests.Response:
        return (client or self.nurse).post(self.url(f"/dossiers/{dossier_id}/documents"), files={"file": (filename, data)}, data=fields)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with running_agent(tmp_path_factory.mktemp("fiche"), dossiers={"max_upload_mib": 1, "establishment": "EHPAD Les Tilleuls"}) as agent:
        yield Cart(agent, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.DOCTOR)),
                   logged_in(agent, agent.add_account(Role.ADMIN)))


def white_page() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 300), "white").save(out, "PNG")
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_document_is_recognised_by_its_content_not_its_name(cart: Cart) -> None:
    dossier_id, _ = cart.dossier()
    png = samples.image("PNG")
    reply = cart.upload(dossier_id, png, "ordonnance.pdf", kind="photo")
    assert reply.status_code == 201, reply.text
    doc = reply.json()
    assert (doc["mime"], doc["name"], doc["kind_label"], doc["width"]) == ("image/png", "ordonnance.png", "Photo", 120)
    got = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}/documents/{doc['id']}"))
    assert got.content == png and got.headers["Content-Type"] == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    pdf = cart.upload(dossier_id, samples.pdf(), "scan", kind="resultat").json()
    assert (pdf["mime"], pdf["name"], pdf["pages"]) == ("application/pdf", "scan.pdf", 2)  # samples.pdf(): a page per text
    listed = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()["documents"]
    assert [d["name"] for d in listed] == ["ordonnance.png", "scan.pdf"]


@pytest.mark.parametrize(("data", "words"), [
    (b"MZ\x90\x00" + b"\x00" * 200, "ni un PDF"),
    (b"<html><script>alert(1)</script></html>", "ni un PDF"),
    (samples.edited(samples.open_action_script), "éléments actifs"),
    (samples.pdf()[:-200], "abîmé"),
    (samples.png_header_only(100_000, 100_000), "trop grande"),
    (b"", "vide"),
])
def test_a_dangerous_or_broken_file_is_refused_and_nothing_is_saved(cart: Cart, data: bytes, words: str) -> None:
    dossier_id, _ = cart.dossier()
    body = assert_error(cart.upload(dossier_id, data, "document.pdf"), 422, "document_refused")
    assert words in body["message"]
    assert cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()["documents"] == []


def test_a_file_over_the_limit_or_missing_gets_a_clear_error(cart: Cart) -> None:
    dossier_id, _ = cart.dossier()
    assert_error(cart.upload(dossier_id, b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10), "gros.pdf"), 413, "file_too_large")
    missing = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/documents"), files={"autre": ("x", b"x")})
    assert_error(missing, 400, "file_missing")
    assert_error(cart.upload(dossier_id, samples.pdf(), "x.pdf", kind="inconnu"), 422, "invalid_request")


def test_rename_and_type_a_document(cart: Cart) -> None:
    dossier_id, _ = cart.dossier()
    doc = cart.upload(dossier_id, samples.pdf(), "scan0001.pdf").json()
    assert doc["kind"] == "autre"
    renamed = cart.nurse.patch(cart.url(f"/dossiers/{dossier_id}/documents/{doc['id']}"), json={"name": "Ordonnance antalgique", "kind": "ordonnance"})
    assert renamed.status_code == 200 and renamed.json()["kind_label"] == "Ordonnance"


def test_a_signature_uploaded_once_is_stamped_on_a_pdf_only(cart: Cart) -> None:
    dossier_id, patient_id = cart.dossier()
    doc = cart.upload(dossier_id, samples.pdf(["Ordonnance", "Paracétamol 1 g"]), "ordonnance.pdf", kind="ordonnance").json()
    apply = lambda d: cart.doctor.post(cart.url(f"/dossiers/{dossier_id}/documents/{d}/signature"))  # noqa: E731
    assert_error(apply(doc["id"]), 409, "no_signature")
    blank = cart.doctor.put(cart.url("/me/signature"), files={"file": ("s.png", white_page())})
    assert_error(blank, 422, "document_refused")  # no ink: nothing to stamp
    assert cart.doctor.put(cart.url("/me/signature"), files={"file": ("s.jpg", samples.signature_image())}).status_code == 204
    assert cart.doctor.get(cart.url("/me/signature")).headers["Content-Type"] == "image/png"

    signed = apply(doc["id"])
    assert signed.status_code == 200, signed.text
    assert signed.json()["signed_by"].startswith("Test ")
    stamped = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}/documents/{doc['id']}")).content
    text = pdf_text(stamped)
    assert "Paracétamol 1 g" in text and "Signé par Test" in text

    photo = cart.upload(dossier_id, samples.image("JPEG"), "photo.jpg", kind="photo").json()
    assert_error(apply(photo["id"]), 409, "not_a_pdf")
    actions = [r["action"] for r in audit_items(cart.agent, cart.admin, patient_id=patient_id)]
    assert "document.sign" in actions and "document.add" in actions and "document.read" in actions


def test_the_fiche_is_filled_by_both_sides_signed_then_read_only_and_printed(cart: Cart, artifacts: Path) -> None:
    dossier_id, patient_id = cart.dossier(birth_name="IMPRIME")
    path = f"/dossiers/{dossier_id}"
    fiche = cart.nurse.patch(cart.url(f"{path}/fiche"), json={
        "reason": "Plaie du talon gauche", "history": "Diabète de type 2\nArtériopathie", "observations": "Plaie de 2 cm, bords nets"})
    assert fiche.status_code == 200 and fiche.json()["fiche"]["history"] == "Diabète de type 2\nArtériopathie"
    assert_error(cart.nurse.patch(cart.url(f"{path}/fiche"), json={"expert_opinion": "moi aussi"}), 403, "expert_part_only")
    vital = cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "temperature", "value": "37,8"})
    assert vital.status_code == 201 and vital.json()["vitals"][0]["value"] == "37.8"
    assert cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "blood_pressure", "value": "135/85"}).status_code == 201
    body = assert_error(cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "spo2", "value": "960"}), 422, "implausible_vital")
    assert "Saturation" in body["message"]
    cart.upload(dossier_id, samples.pdf(), "bilan.pdf", kind="resultat")

    assert_error(cart.doctor.post(cart.url(f"{path}/signature")), 422, "opinion_missing")
    cart.doctor.patch(cart.url(f"{path}/fiche"), json={"expert_opinion": "Plaie artérielle : doppler des membres inférieurs"})
    cart.nurse.post(cart.url(f"{path}/transitions"), json={"to": "in_progress"})
    draft = pdf_text(cart.nurse.get(cart.url(f"{path}/report.pdf")).content)
    assert "PROVISOIRE" in draft

    signed = cart.doctor.post(cart.url(f"{path}/signature"))
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "closed" and signed.json()["fiche"]["signed_by"].startswith("Test ")
    assert_error(cart.nurse.patch(cart.url(f"{path}/fiche"), json={"reason": "changé"}), 409, "dossier_closed")
    assert_error(cart.doctor.patch(cart.url(f"{path}/fiche"), json={"expert_opinion": "changé"}), 409, "dossier_closed")
    assert_error(cart.upload(dossier_id, samples.pdf(), "tard.pdf"), 409, "dossier_closed")
    assert_error(cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "pulse", "value": "80"}), 409, "dossier_closed")

    report = cart.nurse.get(cart.url(f"{path}/report.pdf"))
    (artifacts / "report-signed.pdf").write_bytes(report.content)  # for a person to read
    assert report.headers["Content-Type"] == "application/pdf"
    text = pdf_text(report.content)
    for expected in ("IMPRIME Marcel", "02/11/1931", "Plaie du talon gauche", "Diabète de type 2", "doppler des membres inférieurs",
                     "37,8", "135/85", "mmHg", "bilan.pdf", "EHPAD Les Tilleuls", "Dr Claire Petit"):
        assert expected in text, expected
    assert "PROVISOIRE" not in text

    export = cart.nurse.get(cart.url(f"{path}/export"))
    assert export.headers["Content-Disposition"].startswith("attachment;")
    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    assert names == ["compte-rendu.pdf", "01 bilan.pdf"]
    actions = [r["action"] for r in audit_items(cart.agent, cart.admin, patient_id=patient_id)]
    assert {"fiche.update", "vital.add", "fiche.sign", "report.read", "dossier.export"} <= set(actions)
