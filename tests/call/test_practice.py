"""The practice mode end to end (issue 15), in Chromium with the real agent: a nurse starts it from
her settings, lands on the practice kiosk (badged on every screen, demo residents), enters the
demo's running consultation, where the simulated specialist joins with a moving picture and a voice,
speaks in the chat and files a prescription; she ends the call, finds the prescription, cannot print
it, and leaves. Then: the practice's directory is gone, nothing reached the mail relay, the real
cart holds none of the demo, and the real audit trail says she practised."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from agent.access.roles import Role
from tests.api.helpers import API, logged_in
from tests.api.test_practice import practice_client
from tests.browser.kiosk import fill_login, open_kiosk, shot
from tests.browser.test_touch import check_screen
from tests.call.harness import AUDIO_PROBE, VIDEO_PROBE, Cart, cart_with_mail, in_media_browser, new_page
from tests.call.test_room_rules import receive, socket_url
from tests.loopback import eventually
from tests.notify.servers import run_async

pytestmark = pytest.mark.browser
PRESCRIPTION_AFTER = 8  # seconds after the doctor joins (a minute on a real cart)
# A file as the page downloads it (practice.localhost resolves in Chromium only, not in Playwright's own requests).
FETCHED = """async (url) => {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""
SPOKEN = 0.01  # the loudness (RMS) of espeak-ng's voice is ~0.1; silence is 0


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("practice"), practice={"prescription_after_seconds": PRESCRIPTION_AFTER}) as cart:
        yield cart


def test_a_nurse_practises_a_consultation_with_the_simulated_doctor_and_nothing_is_left(cart: Cart, artifacts: Path) -> None:
    account = cart.nurse_account

    def scenario(browser: Browser) -> dict:
        _, page = new_page(browser, has_touch=True)
        open_kiosk(page, cart.agent)
        fill_login(page, account.login, account.password, account.code())
        real_name = page.locator(".topbar .user .name")
        expect(real_name).to_have_text(f"Test {account.login}")
        page.locator(".topbar .user").tap()
        card = page.locator(".practice-card")
        expect(card).to_contain_text("Rien n'est envoyé à personne")
        shot(page, artifacts, "entrainement-1-parametres.png")
        card.get_by_role("button", name="Commencer l'entraînement").tap()

        # The practice kiosk: another host, the same nurse, the strip on every screen.
        expect(page).to_have_url(re.compile(r"^http://practice\.localhost:\d+/#/activite$"), timeout=20_000)
        strip = page.locator(".practice-strip")
        expect(strip).to_contain_text("ENTRAÎNEMENT")
        expect(real_name).to_have_text(f"Test {account.login}")
        running = page.locator("li[data-consultation].now")
        expect(running).to_contain_text("LEFEBVRE Jeanne")  # the demo's consultation under way
        check_screen(page, "entraînement, activité")
        shot(page, artifacts, "entrainement-2-activite.png")

        running.tap()
        page.get_by_role("button", name="Entrer en salle").tap()
        doctor = page.locator(".tile[data-peer^=p]", has_text="Dr Antoine ROUX")
        expect(doctor).to_be_visible(timeout=20_000)
        expect(page.locator(".chat-list")).to_contain_text("un médecin simulé pour votre entraînement", timeout=15_000)
        expect(strip).to_be_visible()
        peer = doctor.get_attribute("data-peer")
        picture = page.evaluate(VIDEO_PROBE, [f"video[data-peer={peer}]", 2])
        voice = page.evaluate(AUDIO_PROBE, f"video[data-peer={peer}]")
        shot(page, artifacts, "entrainement-3-appel-medecin-simule.png")
        expect(page.locator(".chat-list")).to_contain_text("Je vous ai envoyé une ordonnance", timeout=PRESCRIPTION_AFTER * 1000 + 15_000)

        page.get_by_role("button", name="Terminer la téléconsultation").tap()
        page.get_by_role("button", name="Valider").tap()
        expect(page).to_have_url(re.compile(r"#/dossier/"))
        documents = page.get_by_role("region", name="Documents")
        prescription = documents.get_by_role("listitem").filter(has=page.get_by_role("button", name=re.compile("Imprimer « Ordonnance Dr Antoine ROUX")))
        expect(prescription).to_contain_text("signé par Dr Antoine ROUX")
        pdf = base64.b64decode(page.evaluate(FETCHED, prescription.get_by_role("link", name="Ouvrir").get_attribute("href")))
        prescription.get_by_role("button", name=re.compile("Imprimer")).tap()
        expect(prescription).to_contain_text("En entraînement, rien n'est imprimé")
        shot(page, artifacts, "entrainement-4-ordonnance.png")

        leave = strip.get_by_role("button", name="Quitter l'entraînement")
        leave.tap()
        strip.get_by_role("button", name="Toucher encore : tout effacer et quitter").tap()
        expect(page).to_have_url(re.compile(rf"^{re.escape(cart.agent.url)}/"), timeout=15_000)
        expect(real_name).to_have_text(f"Test {account.login}")
        expect(page.locator(".practice-strip")).to_have_count(0)
        shot(page, artifacts, "entrainement-5-retour.png")
        return {"picture": picture, "voice": voice, "pdf": pdf, "errors": page.problems.page_errors}  # type: ignore[attr-defined]

    seen = in_media_browser(scenario)
    assert not seen["errors"]
    picture, voice = seen["picture"], seen["voice"]
    assert (picture["width"], picture["height"]) == (640, 360) and picture["fps"] > 5, picture  # a moving picture
    assert picture["centre"] != [0, 0, 0], picture
    assert voice is not None and voice > SPOKEN, voice  # the doctor's greeting, read aloud
    text = " ".join(PdfReader(io.BytesIO(seen["pdf"])).pages[0].extract_text().split())
    assert "Paracétamol 500 mg" in text and "ordonnance fictive, sans valeur" in text and "LEFEBVRE" in text, text

    eventually(lambda: not (cart.agent.data_dir / "practice").exists() or None)  # everything the practice kept, erased
    assert cart.inbox.received == []  # the demo's invitations went to nobody
    residents = cart.nurse.get(cart.url("/patients"), params={"q": "LEFEBVRE"}).json()
    assert residents["items"] == []  # the real cart holds none of the demo
    admin = logged_in(cart.agent, cart.agent.add_account(Role.ADMIN))
    trail = admin.get(cart.url("/audit"), params={"actor": account.login}).json()["items"]
    assert {e["action"] for e in trail} >= {"practice.enter", "practice.leave"}


def test_a_real_doctor_waiting_is_said_inside_the_practice(cart: Cart, artifacts: Path) -> None:
    """While the nurse practises, the real cart's rooms go on: someone waiting in one is named over
    the practice kiosk, with the way out, so that no real doctor waits unseen."""
    real = cart.dossier("vrai.medecin@chu.example")
    url = cart.nurse.post(cart.url("/practice")).json()["url"]
    practice, base = practice_client(url)

    async def doctor_waits(until: threading.Event) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(real["invitations"][0]["link"])) as ws:
            await receive(ws, "welcome")
            await asyncio.to_thread(until.wait, 30)

    def scenario(browser: Browser) -> None:
        _, page = new_page(browser, has_touch=True)
        page.goto(url)  # the kiosk's jump, as « Commencer l'entraînement » makes it (the code in the fragment)
        expect(page.locator(".practice-strip")).to_contain_text("ENTRAÎNEMENT")
        alert = page.locator(".practice-real-call")
        expect(alert).to_be_hidden()
        gone = threading.Event()
        doctor = threading.Thread(target=lambda: run_async(doctor_waits(gone)))
        doctor.start()
        try:
            expect(alert).to_contain_text("Vrai appel : Dr Claire PETIT attend le chariot en salle.", timeout=15_000)
            expect(alert.get_by_role("button", name="Quitter l'entraînement pour répondre")).to_be_visible()
            shot(page, artifacts, "entrainement-6-vrai-appel.png")
        finally:
            gone.set()
            doctor.join()
        expect(alert).to_be_hidden(timeout=15_000)  # the doctor left: nothing to answer any more

    try:
        in_media_browser(scenario)
    finally:
        practice.post(f"{base}{API}/practice/leave")
        eventually(lambda: not (cart.agent.data_dir / "practice").exists() or None)
