"""The specialist's own documents from their link page, in Chromium (issue 15): their signature
image (kept for their later links to this cart), a prescription written on the page and made a
signed, dated PDF in the dossier, announced at once on the kiosk where the nurse opens it, and a
PDF of theirs added and signed. The prescription is read back from the PDF the nurse downloads."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from agent.access.roles import Role
from tests.api.helpers import patient
from tests.browser.kiosk import shot, sign_in
from tests.browser.test_specialist_page import Cart, open_with_code, specialist_cart
from tests.browser.test_touch import check_screen
from tests.documents.samples import signature_image

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with specialist_cart(tmp_path_factory.mktemp("prescription")) as made:
        yield made


def _dossier_for_doctor(cart: Cart, mobile: str, rpps: str = "10101234567") -> dict:
    made = cart.nurse.post(cart.url("/patients"), json=patient(birth_name="FONTAINE", first_names=["Odette"], sex="F",
                                                               birth_date="1935-02-11", confirm_duplicate=True)).json()
    dossier = cart.nurse.post(cart.url("/dossiers"), json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "ROUX", "first_name": "Antoine", "specialty": "Dermatologie", "mobile": mobile, "rpps": rpps},
        "slot": {"now": True}, "confirm_overlap": True, "reason": "Plaie du talon gauche"}).json()
    cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/vitals"), json={"kind": "weight", "value": "58,5"})
    cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/transitions"), json={"to": "in_progress"})
    return dossier


def load_signature(doctor: Page, tmp_path: Path) -> None:
    """The doctor's signature image, loaded once on their page."""
    (tmp_path / "signature.png").write_bytes(signature_image())
    doctor.get_by_label("Image de ma signature (JPEG ou PNG)").set_input_files(str(tmp_path / "signature.png"))
    doctor.get_by_role("button", name="Charger ma signature").click()
    expect(doctor.get_by_text("Votre signature est enregistrée sur ce chariot")).to_be_visible()


def first_medicine(doctor: Page) -> None:
    doctor.get_by_label("Médicament, forme et dosage").fill("Amoxicilline 500 mg, gélule")
    doctor.get_by_label("Posologie").fill("1 gélule matin, midi et soir")
    doctor.get_by_label("Durée").fill("7 jours")


def test_the_specialist_signs_a_prescription_that_the_kiosk_announces_and_the_pdf_carries(browser: Browser, cart: Cart, artifacts: Path,
                                                                                           tmp_path: Path) -> None:
    dossier = _dossier_for_doctor(cart, "0612345690")
    nurse = cart.agent.add_account(Role.NURSE)
    kiosk_context = browser.new_context(viewport=DESKTOP, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    kiosk = kiosk_context.new_page()
    sign_in(kiosk, cart.agent, nurse)
    with kiosk.expect_response(lambda r: "/documents/news?since=" in r.url, timeout=15_000):
        pass  # the kiosk listens from before the doctor writes (it polls every few seconds)

    doctor_context = browser.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = doctor_context.new_page()
    open_with_code(doctor, cart, dossier["invitations"][0]["link"], "+33612345690")
    expect(doctor.get_by_role("heading", name="Rédiger une ordonnance")).to_be_visible()
    sign = doctor.get_by_role("button", name="Signer et verser l'ordonnance au télédossier")
    expect(sign).to_be_disabled()  # no signature image yet
    load_signature(doctor, tmp_path)
    first_medicine(doctor)
    doctor.get_by_role("button", name="Ajouter un médicament").click()
    second = doctor.locator("fieldset.medicine").nth(1)
    second.get_by_label("Médicament, forme et dosage").fill("Paracétamol 1 g, comprimé")
    second.get_by_label("Posologie").fill("1 comprimé si douleur, 4 par jour au plus")
    doctor.get_by_label("Texte libre").fill("Pansement gras tous les deux jours par l'infirmière.")
    doctor.screenshot(path=str(artifacts / "specialiste-ordonnance.png"), full_page=True)
    check_screen(doctor, "ordonnance du médecin")
    doctor.get_by_role("button", name="Signer et verser l'ordonnance au télédossier").click()
    doctor.get_by_role("button", name="Confirmer : signer l'ordonnance (2 médicaments)").click()
    expect(doctor.locator(".toast")).to_contain_text("Ordonnance signée et versée au télédossier")
    expect(doctor.locator("ul.documents")).to_contain_text("Ordonnance, signé par Dr Antoine Roux")

    # The kiosk hears of it at once, and the nurse opens the dossier from the notice (the kiosk's
    # page to the front, as the cart's screen is: Chromium slows the timers of a page behind another).
    kiosk.bring_to_front()
    notice = kiosk.locator(".news-item")
    expect(notice).to_contain_text("Ordonnance de Dr Antoine Roux", timeout=15_000)
    expect(notice).to_contain_text("FONTAINE Odette")
    shot(kiosk, artifacts, "kiosque-ordonnance-annoncee.png")
    notice.get_by_role("button", name="Ouvrir le télédossier").click()
    expect(kiosk).to_have_url(re.compile(f"#/dossier/{dossier['id']}"))
    expect(notice).to_have_count(0)

    listed = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"]
    made = next(d for d in listed if d["kind"] == "ordonnance")
    assert made["signed_by"] == "Dr Antoine Roux" and made["mime"] == "application/pdf"
    pdf = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}/documents/{made['id']}")).content
    (artifacts / "ordonnance.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())  # table cells come out a line each
    for said in ("ORDONNANCE", "Dr Antoine ROUX", "Dermatologie", "RPPS 10101234567", "FONTAINE Odette", "Née le 11/02/1935",
                 "Poids", "58,5 kg", "1. Amoxicilline 500 mg, gélule", "1 gélule matin, midi et soir", "Durée : 7 jours",
                 "2. Paracétamol 1 g, comprimé", "Pansement gras", "Signée électroniquement par Dr Antoine ROUX", "Téléconsultation"):
        assert said in text, (said, text)
    assert len(reader.pages[0].images) == 1  # the doctor's signature
    assert "FONTAINE" not in str(reader.metadata)  # no resident's name in what file managers show
    kiosk_context.close()

    # A PDF of theirs, signed with the same image.
    (tmp_path / "courrier.pdf").write_bytes(pdf)  # any PDF of theirs will do
    doctor.get_by_label("Fichier (PDF, JPEG ou PNG)").set_input_files(str(tmp_path / "courrier.pdf"))
    doctor.get_by_label("Type de document").select_option("courrier")
    doctor.get_by_text("Signer ce PDF avec ma signature").click()
    doctor.get_by_role("button", name="Ajouter au télédossier").click()
    expect(doctor.locator(".toast")).to_contain_text("ajouté au télédossier")
    expect(doctor.locator("ul.documents li", has_text="Courrier")).to_contain_text("signé par Dr Antoine Roux")
    doctor_context.close()


def test_a_prescription_needs_a_signature_and_something_prescribed(cart: Cart) -> None:
    """The API refuses, in French, what the page's button already prevents."""
    import requests

    from tests.loopback import eventually

    dossier = _dossier_for_doctor(cart, "0612345691", rpps="10109999999")  # a doctor without a signature on this cart yet
    link = dossier["invitations"][0]["link"]
    api = link.replace("/s/", "/api/v1/links/", 1) if "/s/" in link else None
    assert api, link
    doctor = requests.Session()
    doctor.post(f"{api}/code", json={})
    text = eventually(lambda: [t["text"] for t in cart.sms.texts if t["to"] == "+33612345691" and "code" in t["text"]])[-1]
    opened = doctor.post(f"{api}/session", json={"code": re.search(r"\b(\d{6})\b", text).group(1)})
    assert opened.status_code == 201, opened.text
    doctor.headers["X-CSRF-Token"] = opened.json()["csrf_token"]
    unsigned = doctor.post(f"{api}/prescriptions", json={"medicines": [{"name": "Amoxicilline 500 mg"}]})
    assert unsigned.status_code == 409 and "signature" in unsigned.json()["message"]
    doctor.put(f"{api}/signature-image", files={"file": ("signature.png", signature_image(), "image/png")}).raise_for_status()
    empty = doctor.post(f"{api}/prescriptions", json={"medicines": [{"name": "  "}], "notes": ""})
    assert empty.status_code == 422 and "vide" in empty.json()["message"]
    kinds = [d["kind"] for d in cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"]]
    assert "ordonnance" not in kinds  # nothing made of either


def test_the_specialist_sends_a_pdf_to_a_relative_and_invites_a_colleague_into_the_dossier(browser: Browser, cart: Cart, artifacts: Path) -> None:
    from tests.documents.samples import pdf as sample_pdf
    from tests.loopback import eventually

    dossier = _dossier_for_doctor(cart, "0612345692", rpps="10108888888")
    uploaded = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/documents"), data={"kind": "resultat"},
                               files={"file": ("bilan.pdf", sample_pdf(), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    context = browser.new_context(viewport=DESKTOP, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = context.new_page()
    open_with_code(doctor, cart, dossier["invitations"][0]["link"], "+33612345692")

    doctor.get_by_label("Document", exact=True).select_option(label="bilan.pdf (Résultat d'examen)")
    doctor.get_by_label("E-mail (reçoit le lien ; vide : celui du résident)").fill("fille.fontaine@example.org")
    doctor.get_by_label("Portable (reçoit le code ; vide : celui du résident)").fill("0699887766")
    doctor.get_by_role("button", name="Envoyer le document").click()
    expect(doctor.locator(".toast")).to_contain_text("Lien envoyé à f")  # masked; the code goes by SMS when the link is opened

    doctor.get_by_label("Nom", exact=True).fill("BLANC")
    doctor.get_by_label("Prénom", exact=True).fill("Marc")
    doctor.get_by_label("Spécialité").fill("Angiologie")
    doctor.get_by_label("Téléphone portable").fill("0677665544")
    doctor.screenshot(path=str(artifacts / "specialiste-confrere.png"), full_page=True)
    check_screen(doctor, "invitation d'un confrère")
    doctor.get_by_role("button", name="Envoyer l'invitation").click()
    expect(doctor.locator(".toast")).to_contain_text("Invitation envoyée à Marc BLANC")
    invitation = eventually(lambda: [t["text"] for t in cart.sms.texts if t["to"] == "+33677665544"])[-1]
    assert "/s/" in invitation  # his own link
    context.close()
    people = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["invitations"]
    assert any(p["name"].upper().startswith("BLANC") and p["role"] == "specialist" for p in people), people
    admin = cart.agent.login(cart.agent.add_account(Role.ADMIN))
    trail = admin.get(f"{cart.agent.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
    sent = [r for r in trail if r["action"] == "document.send"]
    assert sent and sent[0]["actor"] == "Dr Antoine Roux" and "bilan.pdf" in sent[0]["detail"]


def test_on_a_phone_the_specialist_writes_and_signs_a_prescription_without_sideways_scrolling(browser: Browser, cart: Cart, artifacts: Path,
                                                                                             tmp_path: Path) -> None:
    """The specialist between two patients, on their phone (390 px): the same form, nothing cut or
    wider than the screen, and the prescription in the dossier."""
    dossier = _dossier_for_doctor(cart, "0612345693", rpps="10107777777")
    phone = {"width": 390, "height": 844}
    context = browser.new_context(viewport=phone, has_touch=True, is_mobile=True, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = context.new_page()
    open_with_code(doctor, cart, dossier["invitations"][0]["link"], "+33612345693")
    load_signature(doctor, tmp_path)
    first_medicine(doctor)
    sign = doctor.get_by_role("button", name="Signer et verser l'ordonnance au télédossier")
    sign.scroll_into_view_if_needed()
    box = sign.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= phone["width"], box
    assert doctor.evaluate("document.documentElement.scrollWidth") <= phone["width"]
    doctor.screenshot(path=str(artifacts / "specialiste-ordonnance-telephone.png"), full_page=True)
    sign.tap()
    doctor.get_by_role("button", name="Confirmer : signer l'ordonnance (1 médicament)").tap()
    expect(doctor.locator(".toast")).to_contain_text("Ordonnance signée et versée au télédossier")
    kinds = [d["kind"] for d in cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"]]
    assert kinds.count("ordonnance") == 1
    context.close()
