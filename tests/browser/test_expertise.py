"""A téléexpertise end to end in Chromium (issue 15): the nurse asks it from the resident's page on
the kiosk (no slot, an answer awaited within 48 hours) with photos from the exam camera (the
simulated cameras draw a clock: real JPEGs), the expert's SMS says so, the expert opens the dossier
from their link (no call offered), sees the photos, writes and signs; the kiosk announces the
answer. A photo that cannot follow leaves the dossier made, and the nurse is told where to add it."""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Route, expect

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import patient
from tests.browser.kiosk import shot, sign_in
from tests.browser.test_specialist_page import Cart, open_with_code, specialist_cart
from tests.browser.test_touch import check_screen
from tests.loopback import eventually

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
FULL = "Le disque du chariot est plein : rien n'a été enregistré. Prévenez le support technique."  # agent/api/errors.py storage_full


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with specialist_cart(tmp_path_factory.mktemp("expertise")) as made:
        yield made


def saved_files(cart: Cart) -> tuple[int, int]:
    """Blobs on disk and documents recorded on the cart: a photo taken for a request not yet sent is in neither."""
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    try:
        documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        db.close()
    return sum(1 for f in (cart.agent.data_dir / "blobs").rglob("*") if f.is_file()), documents


def ask_expertise(kiosk: Page, cart: Cart, resident: dict, mobile: str) -> None:
    """The request screen filled by hand up to its photos."""
    kiosk.goto(f"{cart.agent.url}/#/resident/{resident['id']}")
    kiosk.get_by_role("button", name="Demander une téléexpertise").click()
    expect(kiosk.get_by_role("heading", name="Demander une téléexpertise")).to_be_visible()
    kiosk.get_by_label("Nom de l'expert").fill("MARTIN")
    kiosk.get_by_label("Prénom").fill("Lucie")
    kiosk.get_by_label("Spécialité").fill("Dermatologie")
    kiosk.get_by_label("Téléphone portable").fill(mobile)
    kiosk.get_by_label("Motif").fill("Plaie du talon gauche")
    kiosk.get_by_label("Question posée à l'expert").fill("La plaie s'étend depuis une semaine : faut-il changer le pansement ou adresser ?")
    # The preview of the active camera plays before any photo is taken.
    kiosk.wait_for_function("() => document.querySelector('.photo-camera img.preview').naturalWidth > 0")


class PreviewStreams:
    """The camera preview's streams as Chromium's network layer sees them: Playwright calls a
    multipart image finished at its first part, the DevTools protocol says when it is cancelled."""

    def __init__(self, page: Page) -> None:
        self.opened: set[str] = set()
        self.cancelled: set[str] = set()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: self.opened.add(e["requestId"]) if e["request"]["url"].endswith("/cameras/preview") else None)
        cdp.on("Network.loadingFailed", lambda e: self.cancelled.add(e["requestId"]) if e["requestId"] in self.opened and e.get("canceled") else None)


# The simulated cameras' full sizes (agent/devices/cameras.py); the preview is 640 px wide.
FULL_SIZE = {"Caméra de la salle": [1280, 720], "Caméra d'examen": [960, 720]}


def take_photo(kiosk: Page, camera: str) -> None:
    kiosk.get_by_role("button", name=camera, exact=True).click()
    expect(kiosk.get_by_role("button", name=camera, exact=True)).to_have_attribute("aria-pressed", "true")
    before = kiosk.locator(".photo-thumb").count()
    kiosk.get_by_role("button", name="Prendre une photo").click()
    expect(kiosk.locator(".photo-thumb")).to_have_count(before + 1, timeout=15_000)
    # A JPEG the browser decoded: the thumbnail has the camera's full size.
    assert kiosk.locator(".photo-thumb img").last.evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])") == FULL_SIZE[camera]


def test_the_nurse_asks_an_opinion_the_expert_answers_in_writing_and_the_kiosk_hears_it(browser: Browser, cart: Cart, artifacts: Path) -> None:
    resident = cart.nurse.post(cart.url("/patients"), json=patient(birth_name="LEROY", first_names=["Germaine"], sex="F",
                                                                   birth_date="1933-06-20", confirm_duplicate=True)).json()
    kiosk_context = browser.new_context(viewport=DESKTOP, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    kiosk = kiosk_context.new_page()
    sign_in(kiosk, cart.agent, cart.agent.add_account(Role.NURSE))
    ask_expertise(kiosk, cart, resident, "0611223344")
    kiosk.get_by_text("48 heures").click()
    kiosk.get_by_role("heading", name="Demander une téléexpertise").scroll_into_view_if_needed()
    shot(kiosk, artifacts, "kiosque-teleexpertise-demande.png")

    before = saved_files(cart)
    take_photo(kiosk, "Caméra de la salle")  # the wrong camera: taken, then removed
    take_photo(kiosk, "Caméra d'examen")
    take_photo(kiosk, "Caméra d'examen")
    expect(kiosk.get_by_text("3 photos jointes à la demande")).to_be_visible()
    kiosk.locator(".photo-thumb").first.get_by_role("button", name="Retirer").click()
    expect(kiosk.locator(".photo-thumb")).to_have_count(2)
    expect(kiosk.get_by_text("2 photos jointes à la demande")).to_be_visible()
    assert saved_files(cart) == before  # nothing written on the cart until the request is sent
    kiosk.locator("fieldset.photos legend").evaluate("e => e.scrollIntoView({ block: 'start' })")
    check_screen(kiosk, "demande de téléexpertise avec ses photos")
    shot(kiosk, artifacts, "kiosque-teleexpertise-photos.png")
    kiosk.get_by_role("button", name="Envoyer la demande à l'expert").click()

    expect(kiosk.get_by_role("heading", name="Téléexpertise : avis écrit, sans appel")).to_be_visible()
    expect(kiosk.get_by_text("Demande de téléexpertise envoyée à l'expert, avec 2 photos.")).to_be_visible()
    expect(kiosk.get_by_text("faut-il changer le pansement ou adresser ?")).to_be_visible()
    expect(kiosk.locator("#enter-room")).to_have_count(0)  # no call to enter
    expect(kiosk.locator("#fiche-title")).to_have_text("Fiche de téléexpertise")
    photos = kiosk.locator("li.document", has=kiosk.locator(".doc-kind option[value=photo]:checked"))
    expect(photos).to_have_count(2)
    expect(photos.first.locator(".doc-name")).to_have_value(re.compile(r"^Photo caméra d'examen \d{1,2}h\d{2}\.jpg$"))
    shot(kiosk, artifacts, "kiosque-teleexpertise-dossier.png")
    photos.last.scroll_into_view_if_needed()
    shot(kiosk, artifacts, "kiosque-teleexpertise-dossier-photos.png")
    dossier_id = re.search(r"#/dossier/([0-9a-f-]+)", kiosk.url).group(1)
    documents = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()["documents"]
    assert [(d["kind"], d["mime"]) for d in documents] == [("photo", "image/jpeg")] * 2
    jpeg = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}/documents/{documents[0]['id']}")).content
    assert list(Image.open(io.BytesIO(jpeg)).size) == FULL_SIZE["Caméra d'examen"]  # the full resolution, not the preview's
    with kiosk.expect_response(lambda r: "/documents/news?since=" in r.url, timeout=15_000):
        pass  # the kiosk listens from before the expert answers (it polls every few seconds)

    text = eventually(lambda: [t["text"] for t in cart.sms.texts if t["to"] == "+33611223344"])[-1]
    assert "demande de téléexpertise, avis attendu avant le" in text
    link = re.search(r"(https?://\S+/s/\S+)", text).group(1)

    doctor_context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = doctor_context.new_page()
    open_with_code(doctor, cart, link, "+33611223344")
    expect(doctor.get_by_text("Téléexpertise (sans appel) : avis attendu avant le")).to_be_visible()
    expect(doctor.get_by_text("Question posée :")).to_be_visible()
    expect(doctor.get_by_role("link", name="Rejoindre l'appel")).to_have_count(0)
    pictures = doctor.locator(".document-photo img")
    expect(pictures).to_have_count(2)
    pictures.last.scroll_into_view_if_needed()
    for i in range(2):
        assert pictures.nth(i).evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])") == FULL_SIZE["Caméra d'examen"]
    check_screen(doctor, "page de l'expert avec les photos")
    doctor.screenshot(path=str(artifacts / "specialiste-teleexpertise.png"), full_page=True)
    doctor.get_by_label("Avis de l'expert").fill("Plaie d'allure veineuse : compression et pansement hydrocolloïde. Revoir dans 7 jours.")
    doctor.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(doctor.get_by_text("Avis enregistré.")).to_be_visible()
    doctor.get_by_role("button", name="Signer et clôturer").click()
    doctor.get_by_role("button", name="Confirmer la signature (définitive)").click()
    expect(doctor.get_by_text("Signé par Dr Lucie Martin")).to_be_visible()
    doctor_context.close()

    kiosk.bring_to_front()
    notice = kiosk.locator(".news-item")
    expect(notice).to_contain_text("Réponse à la téléexpertise de Dr Lucie Martin", timeout=15_000)
    expect(notice).to_contain_text("LEROY Germaine")
    shot(kiosk, artifacts, "kiosque-teleexpertise-reponse.png")
    kiosk_context.close()
    answered = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()
    assert answered["state"] == "closed" and answered["kind"] == "teleexpertise" and "compression" in answered["fiche"]["expert_opinion"]


def test_a_photo_refused_leaves_the_request_made_and_says_where_to_add_it(page: Page, cart: Cart, artifacts: Path) -> None:
    """The dossier is created before the photos follow: one refused (a full disk, answered for the
    second upload only) does not undo it; the nurse lands on the dossier with the one that went,
    told in French what to do. Leaving the screen ends the camera's preview."""
    resident = cart.nurse.post(cart.url("/patients"), json=patient(birth_name="BERNARD", first_names=["Yvonne"], sex="F",
                                                                   birth_date="1931-03-02", confirm_duplicate=True)).json()
    streams = PreviewStreams(page)
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    ask_expertise(page, cart, resident, "0611223355")
    take_photo(page, "Caméra d'examen")
    take_photo(page, "Caméra d'examen")
    uploads: list[str] = []

    def second_refused(route: Route) -> None:
        uploads.append(route.request.url)
        if len(uploads) == 2:
            route.fulfill(status=503, json={"error": "storage_full", "message": FULL})
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/dossiers/[0-9a-f-]+/documents$"), second_refused)
    page.get_by_role("button", name="Envoyer la demande à l'expert").click()

    expect(page.get_by_role("heading", name="Téléexpertise : avis écrit, sans appel")).to_be_visible()
    expect(page.locator(".toast.error")).to_have_text(
        "Demande envoyée à l'expert, mais une photo n'a pas pu être ajoutée au télédossier : ajoutez-la dans «\u00a0Documents\u00a0», "
        "sur cette page. " + FULL)
    expect(page.locator("li.document")).to_have_count(1)
    shot(page, artifacts, "kiosque-teleexpertise-photo-refusee.png")
    assert len(uploads) == 2
    dossier_id = re.search(r"#/dossier/([0-9a-f-]+)", page.url).group(1)
    made = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()
    assert made["kind"] == "teleexpertise" and [d["kind"] for d in made["documents"]] == ["photo"]
    for _ in range(50):  # Playwright hears the page's events while it waits, not while Python sleeps
        if streams.opened and streams.cancelled == streams.opened:
            break
        page.wait_for_timeout(100)
    assert streams.opened and streams.cancelled == streams.opened, "the camera's preview goes on after the request screen was left"
