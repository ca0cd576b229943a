"""A dossier's page in Chromium, as the nurse and the cart's doctor use it: the form and vitals,
a document added and signed, the expert's opinion signed, and the report PDF downloaded and read."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from agent.access.roles import Role
from tests.api.helpers import API, logged_in, patient
from tests.browser.kiosk import VIEWPORT, shot, sign_in
from tests.documents import samples
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


def new_dossier(agent: LiveAgent) -> str:
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="GARNIER", first_names=["Lucienne"], sex="F",
                                                                 birth_date="1936-05-17", confirm_duplicate=True)).json()
    reply = nurse.post(f"{agent.url}{API}/dossiers", json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"directory_id": 1}, "slot": {"now": True}, "confirm_overlap": True})
    assert reply.status_code == 201, reply.text
    dossier_id = reply.json()["id"]
    nurse.post(f"{agent.url}{API}/dossiers/{dossier_id}/transitions", json={"to": "in_progress"})
    return dossier_id


def test_nurse_fills_the_form_adds_and_signs_a_document_doctor_signs_the_report(
        page: Page, browser: Browser, demo_agent: LiveAgent, artifacts: Path, tmp_path: Path) -> None:
    dossier_id = new_dossier(demo_agent)
    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    page.goto(f"{demo_agent.url}/#/dossier/{dossier_id}")
    expect(page.get_by_role("heading", name="GARNIER Lucienne")).to_be_visible()

    page.get_by_label("Motif").fill("Plaie du talon gauche")
    page.get_by_label("Antécédents").fill("Diabète de type 2\nArtériopathie des membres inférieurs")
    page.get_by_label("Observations cliniques").fill("Plaie de 2 cm, bords nets, pas d'écoulement")
    page.get_by_role("button", name="Enregistrer la fiche").tap()
    expect(page.get_by_text("Fiche enregistrée.")).to_be_visible()
    page.locator("#vital-kind").select_option("temperature")
    page.locator("#vital-value").fill("37,8")
    page.get_by_role("button", name="Ajouter la constante").tap()
    expect(page.locator("table.vitals")).to_contain_text("37,8 °C")
    # The page keeps the dossier the vital's answer gave: the next pulse sees its version and the
    # page reads nothing again (each read of a dossier is an audited access).
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if r.method == "GET" and r.url.endswith(f"/dossiers/{dossier_id}") else None)
    with page.expect_response(lambda r: "/activity/pulse?dossier=" in r.url, timeout=10_000):
        pass
    page.wait_for_timeout(500)  # a read the pulse asked for would leave now
    assert reads == []

    ordonnance = tmp_path / "ordonnance.pdf"
    ordonnance.write_bytes(samples.pdf(["Ordonnance", "Pansement hydrocolloïde"]))
    page.locator("#document-file").set_input_files(str(ordonnance))
    row = page.locator("li.document")
    expect(row).to_have_count(1)
    row.locator("select.doc-kind").select_option("ordonnance")
    expect(page.get_by_text("Document mis à jour.")).to_be_visible()
    signature = tmp_path / "signature.jpg"
    signature.write_bytes(samples.signature_image())
    page.locator("#signature-file").set_input_files(str(signature))
    expect(page.locator("img.signature-preview")).to_be_visible()
    row.get_by_role("button", name="Appliquer ma signature").tap()
    expect(row).to_contain_text("signé par")
    row.get_by_role("button", name="Envoyer au résident").tap()  # the demo-made patient has no contacts
    expect(page.get_by_text("du résident : ajoutez-les avec « Identité et coordonnées »")).to_be_visible()
    page.reload()  # what was saved is there after a reload, not only on screen
    expect(page.get_by_label("Antécédents")).to_have_value("Diabète de type 2\nArtériopathie des membres inférieurs")
    shot(page, artifacts, "dossier-page-top.png")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 2400})  # the cards whole, the sticky top bar above them
    page.locator(".fiche").screenshot(path=str(artifacts / "dossier-page-fiche.png"))
    page.locator(".documents-card").screenshot(path=str(artifacts / "dossier-page-documents.png"))
    page.set_viewport_size(VIEWPORT)

    # Hanging up: the end-of-consultation screen (seed 004).
    page.get_by_role("button", name="Terminer la téléconsultation").tap()
    expect(page.get_by_role("heading", name="Fin de téléconsultation — GARNIER Lucienne")).to_be_visible()
    page.get_by_label("★★★★☆").check()
    page.get_by_label("Commentaire libre").fill("Image un peu sombre au début")
    expect(page.get_by_label("Montant à régler (€)")).to_have_count(0)  # an EHPAD's cart charges nobody ([dossiers] patient_payment)
    page.get_by_label("Autre destinataire : e-mail (facultatif)").fill("dr.traitant@cabinet.example")
    page.get_by_label("Son téléphone portable (pour le code)").fill("06 12 34 56 97")
    shot(page, artifacts, "fin-de-teleconsultation.png")
    expect(page.get_by_role("button", name="Valider")).to_be_in_viewport()  # the form fits at 1280x800, « Valider » in reach
    page.locator(".end-page .stars").screenshot(path=str(artifacts / "fin-etoiles.png"))
    page.get_by_label("ordonnance.pdf").check()
    page.get_by_role("button", name="Valider").tap()  # the demo patient has no contacts: the PDF cannot leave
    expect(page.get_by_role("alert")).to_contain_text("téléphone portable (le code) du résident")
    page.get_by_label("ordonnance.pdf").uncheck()
    page.get_by_role("button", name="Valider").tap()
    expect(page.locator(".dossier-head .badge")).to_have_text("En attente du compte rendu")

    doctor = demo_agent.add_account(Role.DOCTOR)
    context = browser.new_context(viewport=VIEWPORT, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        other = context.new_page()
        sign_in(other, demo_agent, doctor)
        other.goto(f"{demo_agent.url}/#/dossier/{dossier_id}")
        other.get_by_label("Avis de l'expert").fill("Plaie d'allure artérielle : doppler artériel des membres inférieurs.")
        other.get_by_role("button", name="Signer et clôturer").tap()
        other.get_by_role("button", name="Toucher encore : signature définitive").tap()
        expect(other.locator(".dossier-head .badge")).to_have_text("Clôturée")
        expect(other.locator(".fiche .signed")).to_contain_text("Signé par Test doctor")
        expect(other.get_by_label("Motif")).to_be_disabled()
        with other.expect_download() as download:
            other.get_by_role("link", name="Compte rendu (PDF)").tap()
        pdf = Path(download.value.path()).read_bytes()
        other.locator(".fiche").screenshot(path=str(artifacts / "dossier-page-signed.png"))
        # Signed is not gone: while the room is open the cart may still enter it (issue 17, item 6).
        expect(other.get_by_role("button", name="Entrer en salle")).to_be_visible()
    finally:
        context.close()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("GARNIER Lucienne", "17/05/1936", "Plaie du talon gauche", "Artériopathie", "37,8", "doppler artériel",
                     "ordonnance.pdf", "Dr Antoine Roux"):
        assert expected in text, expected
    assert "PROVISOIRE" not in text


def test_visio_sms_invites_a_phone_number_from_the_activity_view(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    sign_in(page, demo_agent, demo_agent.add_account(Role.NURSE))
    page.get_by_role("button", name="Visio SMS").tap()
    expect(page.get_by_role("heading", name="Invitation téléphonique")).to_be_visible()
    page.get_by_role("button", name="Lancer l'invitation").tap()
    expect(page.get_by_role("alert")).to_have_text("Indiquez un téléphone portable ou une adresse e-mail.")
    page.get_by_label("Téléphone portable").fill("01 42 42 42 42")
    page.get_by_role("button", name="Lancer l'invitation").tap()
    expect(page.get_by_role("alert")).to_contain_text("portable invalide")
    page.get_by_label("Téléphone portable").fill("06 12 34 56 99")
    page.get_by_role("button", name="Lancer l'invitation").tap()
    expect(page.locator(".visio-sent")).to_contain_text("L'invitation part vers 06 12 34 56 99")
    shot(page, artifacts, "visio-sms.png")


def test_an_admin_keeps_the_directory(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    sign_in(page, demo_agent, demo_agent.add_account(Role.ADMIN))
    page.get_by_role("button", name="Annuaire").tap()
    rows = page.locator(".directory-page table.records tbody tr")
    expect(rows.first).to_be_visible()
    before = rows.count()
    page.get_by_label("Nom *").fill("BERTRAND")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Spécialité *").fill("Gériatrie")
    page.get_by_label("E-mail").fill("pas-une-adresse")
    page.get_by_role("button", name="Ajouter à l'annuaire").tap()
    expect(page.get_by_role("alert")).to_contain_text("e-mail")
    page.get_by_label("E-mail").fill("ines.bertrand@chu.example")
    page.get_by_role("button", name="Ajouter à l'annuaire").tap()
    expect(rows).to_have_count(before + 1)
    row = rows.filter(has_text="Dr Inès Bertrand")
    row.get_by_role("button", name="Retirer").tap()
    expect(row.get_by_role("button", name="Rétablir")).to_be_visible()
    shot(page, artifacts, "annuaire.png")


def test_the_signature_is_loaded_once_in_ones_settings(page: Page, demo_agent: LiveAgent, artifacts: Path, tmp_path: Path) -> None:
    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    page.locator(".topbar button.user").tap()
    expect(page.get_by_role("heading", name="Paramètres")).to_be_visible()
    expect(page.get_by_text("Aucune signature chargée.")).to_be_visible()
    signature = tmp_path / "signature.png"
    signature.write_bytes(samples.signature_image())
    page.locator("#signature-file").set_input_files(str(signature))
    expect(page.locator("img.signature-preview")).to_be_visible()
    shot(page, artifacts, "parametres-signature.png")


def test_the_nurse_cancels_a_teleconsultation_with_its_reason_and_nothing_closes_it_but_the_signature(
        page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    dossier_id = new_dossier(demo_agent)
    sign_in(page, demo_agent, demo_agent.add_account(Role.NURSE))
    page.goto(f"{demo_agent.url}/#/dossier/{dossier_id}")
    expect(page.get_by_role("heading", name="GARNIER Lucienne")).to_be_visible()
    expect(page.get_by_role("button", name="Clôturer")).to_have_count(0)  # no way to close without the signature

    cancel = page.locator(".cancellation button")
    expect(cancel).to_have_text("Annuler la téléconsultation")
    cancel.tap()
    expect(page.get_by_text("Indiquez la raison de l'annulation")).to_be_visible()  # no reason, no cancellation
    expect(cancel).to_have_text("Annuler la téléconsultation")
    page.get_by_label("Raison de l'annulation").fill("Résident hospitalisé ce matin")
    cancel.tap()
    expect(cancel).to_have_text("Toucher encore pour annuler")
    cancel.tap()
    expect(page.get_by_role("status").filter(has_text="Téléconsultation annulée : Résident hospitalisé ce matin")).to_be_visible()
    expect(page.locator(".badge.state-cancelled")).to_have_text("Annulée")
    expect(page.get_by_label("Antécédents")).to_be_disabled()
    expect(page.get_by_role("button", name="Entrer en salle")).to_have_count(0)
    expect(page.get_by_text("Révoquée").first).to_be_visible()
    shot(page, artifacts, "dossier-cancelled.png")
