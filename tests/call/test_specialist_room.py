"""The room as a specialist expects it (issue 16; seed 001 §3.1-3.2, seed 000 §2.4), in Chromium
with its fake devices (two cameras here: `device-count=2`; three microphones, Chromium's own):

- before entering, the dossier says who is already in the room, and keeps saying it as people come
  and go; only the specialist's link learns it;
- the camera and the microphone are chosen from what the browser lists, the choice used (the track
  sent) and remembered; another one taken during the call replaces the track being sent;
- « Intervenant en grand » / « Mosaïque » change which picture is large; the cart's picture goes
  into a window of its own (Picture-in-Picture);
- on a desktop screen the room opens beside the dossier; on a phone the room's own page stays.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.kiosk import shot
from tests.browser.test_touch import check_screen
from tests.call.harness import API, Cart, cart_with_mail, leave_any_call, media_browser, new_page
from tests.loopback import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TWO_CAMERAS = "--use-fake-device-for-media-stream=device-count=2"  # the last of a switch given twice wins
PHONE = {"width": 390, "height": 844}
RELATIVE = {"kind": "relative", "companion": {"name": "LEFEBVRE", "first_name": "Paul", "remote": True, "email": "paul@famille.example"}}


class Chromium:
    """One Chromium for the module, driven from a thread of its own (harness.in_media_browser says
    why); `run(scenario)` runs `scenario(browser)` there and hands back what it returns or raises."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name="playwright-room", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with sync_playwright() as playwright:
            browser = media_browser(playwright, TWO_CAMERAS)
            try:
                while (job := self.jobs.get()) is not None:
                    scenario, done = job
                    try:
                        done.put((True, scenario(browser)))
                    except BaseException as exc:  # noqa: BLE001 (handed over to the test's thread)
                        done.put((False, exc))
            finally:
                browser.close()

    def run(self, scenario: Callable[[Browser], Any]) -> Any:
        done: queue.Queue[Any] = queue.Queue()
        self.jobs.put((scenario, done))
        ok, value = done.get(timeout=120)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(30)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("specialist-room"), call={"lobby": False}) as cart:
        yield cart


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    made = Chromium()
    yield made
    made.stop()


@pytest.fixture(autouse=True)
def no_call_left(cart: Cart) -> Iterator[None]:
    yield
    leave_any_call(cart)


@contextlib.contextmanager
def contexts(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`open(**options)` gives a new page in a context of its own; all are closed at the end."""
    made: list[BrowserContext] = []

    def open_page(viewport: dict[str, int] | None = None, **options: object) -> Page:
        context, page = new_page(browser, **options)
        made.append(context)
        if viewport:
            page.set_viewport_size(viewport)
        return page

    try:
        yield open_page
    finally:
        for context in made:
            context.close()


def open_dossier(page: Page, cart: Cart, link: str, address: str) -> None:
    """The specialist's emailed link, its one-time code read from the email, the dossier open."""
    page.goto(link)
    before = len(cart.inbox.received)
    page.get_by_role("button", name="Recevoir un code").click()
    text = eventually(lambda: [m.message.get_body(preferencelist=("plain",)).get_content() for m in cart.inbox.received[before:]
                               if address in m.recipients and "code d'accès" in m.message.get_body(preferencelist=("plain",)).get_content()])
    page.get_by_label("Code reçu").fill(re.search(r"\b(\d{6})\b", text[-1]).group(1))
    page.get_by_role("button", name="Ouvrir le télédossier").click()
    expect(page.locator(".first-screen")).to_be_visible()


def enter_room(page: Page, link: str) -> None:
    page.goto(link + "?vue=appel")
    page.get_by_role("button", name="Rejoindre la téléconsultation").click()
    page.wait_for_function("() => window.telecartRoom && window.telecartRoom.me")


def plays(page: Page, peer: str) -> None:
    page.wait_for_function(f"() => (document.querySelector('video[data-peer={peer}]') || {{}}).videoWidth > 0", timeout=15_000)


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


# --- before entering --------------------------------------------------------------------------

def test_the_dossier_names_who_is_in_the_room_before_entering(cart: Cart, chromium: Chromium, artifacts: Path) -> None:
    """Seed 001 §3.1: the count and the names, before the doctor enters, kept current while the
    page is open: the cart comes in, the resident's son joins and leaves."""
    specialist_address = "presence@chu.example"
    dossier = cart.dossier(specialist_address, accompaniment=RELATIVE)
    link, relative_link = cart.emailed_link(specialist_address), cart.emailed_link("paul@famille.example")

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            doctor = open_page()
            open_dossier(doctor, cart, link, specialist_address)
            presence = doctor.locator(".presence")
            expect(presence).to_contain_text("La salle est vide")

            assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
            expect(presence).to_contain_text("Dans la salle : 1 participant", timeout=10_000)
            expect(presence).to_contain_text("Le chariot (équipe soignante)")

            son = open_page()
            enter_room(son, relative_link)
            expect(presence).to_contain_text("Dans la salle : 2 participants", timeout=10_000)
            expect(presence.locator("li")).to_have_text(["Le chariot (équipe soignante)", "Paul LEFEBVRE (proche)"])
            shot(doctor, artifacts, "specialiste-salle-occupee-1280.png")

            son.get_by_role("button", name="Quitter").click()
            expect(presence).to_contain_text("Dans la salle : 1 participant", timeout=10_000)
            expect(presence).not_to_contain_text("LEFEBVRE")
            assert not doctor.problems.page_errors and not doctor.problems.console_errors, doctor.problems  # type: ignore[attr-defined]

    chromium.run(scenario)


def test_only_the_specialists_valid_link_learns_who_is_there(cart: Cart) -> None:
    """A relative's link waits in the lobby and learns nothing of the room: not who is in it either.
    A forged or mistyped link learns nothing at all."""
    dossier = cart.dossier("seul-lui@chu.example", accompaniment=RELATIVE)
    specialist = cart.emailed_link("seul-lui@chu.example").split("/s/")[1]
    relative = cart.emailed_link("paul@famille.example").split("/s/")[1]
    assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
    outsider = requests.Session()  # no cookie, no session: the link alone

    answer = outsider.get(f"{cart.agent.url}{API}/links/{specialist}/room")
    assert answer.status_code == 200, answer.text
    assert answer.json()["cart_in_call"] is True and answer.json()["present"] == []
    refused = outsider.get(f"{cart.agent.url}{API}/links/{relative}/room")
    assert (refused.status_code, refused.json()["error"]) == (403, "not_a_specialist_link")
    room, token = specialist.split("/")
    forged = outsider.get(f"{cart.agent.url}{API}/links/{room}/{token[:-4]}AAAA/room")
    assert (forged.status_code, forged.json()["error"]) == (403, "link_refused")
    other_room = outsider.get(f"{cart.agent.url}{API}/links/{relative.split('/')[0]}x/{token}/room")
    assert other_room.status_code == 403


# --- the camera, the microphone, the layout, the window -----------------------------------------

DEVICES = "(kind) => navigator.mediaDevices.enumerateDevices().then((all) => all.filter((d) => d.kind === kind).map((d) => d.deviceId))"
PREVIEW_DEVICE = "(kind) => document.querySelector('video[data-peer=me]').srcObject.getTracks().find((t) => t.kind === kind).getSettings().deviceId"
# The track really sent to another participant (not only the one shown): the mesh connection's sender.
SENT_DEVICE = """([peer, kind]) => { const pc = window.telecartRoom.pcs.get(peer);
  const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === kind);
  return sender ? sender.track.getSettings().deviceId : null; }"""


def options_of(page: Page, label: str) -> list[str]:
    return page.get_by_label(label, exact=True).locator("option").evaluate_all("(os) => os.map((o) => o.value)")


def test_the_camera_and_microphone_are_chosen_remembered_and_switched_in_the_call(cart: Cart, chromium: Chromium, artifacts: Path) -> None:
    address = "appareils@chu.example"
    cart.dossier(address, accompaniment=RELATIVE)
    link, relative_link = cart.emailed_link(address), cart.emailed_link("paul@famille.example")

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            doctor = open_page()
            doctor.goto(link + "?vue=appel")
            camera = doctor.get_by_label("Caméra", exact=True)
            expect(camera).to_be_visible()
            # The lists are what the browser gives, once it has allowed them.
            cameras, microphones = doctor.evaluate(DEVICES, "videoinput"), doctor.evaluate(DEVICES, "audioinput")
            assert len(cameras) == 2 and len(microphones) == 3, (cameras, microphones)
            eventually(lambda: options_of(doctor, "Caméra") == cameras and options_of(doctor, "Micro") == microphones)
            assert camera.input_value() == doctor.evaluate(PREVIEW_DEVICE, "video") == cameras[0]

            camera.select_option(cameras[1])
            eventually(lambda: doctor.evaluate(PREVIEW_DEVICE, "video") == cameras[1])
            doctor.get_by_label("Micro", exact=True).select_option(microphones[2])
            eventually(lambda: doctor.evaluate(PREVIEW_DEVICE, "audio") == microphones[2])
            shot(doctor, artifacts, "appel-choix-camera-micro-1280.png")

            doctor.reload()  # remembered on this browser
            expect(camera).to_have_value(cameras[1])
            assert doctor.evaluate(PREVIEW_DEVICE, "video") == cameras[1]
            expect(doctor.get_by_label("Micro", exact=True)).to_have_value(microphones[2])

            # In the call, what is sent to the other participant is the chosen camera and microphone...
            doctor.get_by_role("button", name="Rejoindre la téléconsultation").click()
            doctor.wait_for_function("() => window.telecartRoom && window.telecartRoom.me")
            son = open_page()
            enter_room(son, relative_link)
            paul = son.evaluate("() => window.telecartRoom.me.id")
            doctor.wait_for_function("(peer) => { const pc = window.telecartRoom.pcs.get(peer); return pc && pc.connectionState === 'connected'; }",
                                     arg=paul, timeout=15_000)
            assert doctor.evaluate(SENT_DEVICE, [paul, "video"]) == cameras[1]
            assert doctor.evaluate(SENT_DEVICE, [paul, "audio"]) == microphones[2]
            # ... and another one, taken during the call, replaces it on the same connection.
            in_call = doctor.locator(".side-panel.devices")
            in_call.get_by_label("Caméra", exact=True).select_option(cameras[0])
            eventually(lambda: doctor.evaluate(SENT_DEVICE, [paul, "video"]) == cameras[0])
            in_call.get_by_label("Micro", exact=True).select_option(microphones[1])
            eventually(lambda: doctor.evaluate(SENT_DEVICE, [paul, "audio"]) == microphones[1])
            doctor_id = doctor.evaluate("() => window.telecartRoom.me.id")
            plays(son, doctor_id)  # Paul still sees the doctor
            assert doctor.evaluate("(peer) => window.telecartRoom.pcs.get(peer).connectionState", paul) == "connected"
            assert not doctor.problems.page_errors, doctor.problems.page_errors  # type: ignore[attr-defined]

    chromium.run(scenario)


def cart_in_call_with(cart: Cart, address: str) -> str:
    """A dossier consulting `address`, the cart in its room: the specialist's emailed link."""
    dossier = cart.dossier(address)
    link = cart.emailed_link(address)
    assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
    return link


def test_the_layout_changes_which_picture_is_large_and_the_cart_goes_into_a_window(cart: Cart, chromium: Chromium, artifacts: Path) -> None:
    address = "affichage@chu.example"
    link = cart_in_call_with(cart, address)

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            doctor = open_page()
            enter_room(doctor, link)
            plays(doctor, "cart")
            speaker = doctor.get_by_role("button", name="Intervenant en grand")
            mosaic = doctor.get_by_role("button", name="Mosaïque")
            expect(speaker).to_have_attribute("aria-pressed", "true")
            cart_tile, own_tile = box(doctor, ".tile[data-peer=cart]"), box(doctor, ".tile[data-peer=me]")
            assert cart_tile["width"] > 3 * own_tile["width"], (cart_tile, own_tile)  # the cart large, oneself in the strip
            shot(doctor, artifacts, "appel-intervenant-en-grand-1280.png")

            mosaic.click()
            expect(mosaic).to_have_attribute("aria-pressed", "true")
            cart_tile, own_tile = box(doctor, ".tile[data-peer=cart]"), box(doctor, ".tile[data-peer=me]")
            assert abs(cart_tile["width"] - own_tile["width"]) <= 2 and abs(cart_tile["height"] - own_tile["height"]) <= 2, (cart_tile, own_tile)
            shot(doctor, artifacts, "appel-mosaique-1280.png")

            speaker.click()
            doctor.locator(".tile[data-peer=me]").click()  # any picture, touched, becomes the large one
            expect(doctor.locator(".tile.main")).to_have_attribute("data-peer", "me")
            cart_tile, own_tile = box(doctor, ".tile[data-peer=cart]"), box(doctor, ".tile[data-peer=me]")
            assert own_tile["width"] > 3 * cart_tile["width"], (cart_tile, own_tile)

            mosaic.click()
            doctor.reload()  # the layout is remembered on this browser
            doctor.get_by_role("button", name="Rejoindre la téléconsultation").click()
            expect(doctor.get_by_role("button", name="Mosaïque")).to_have_attribute("aria-pressed", "true")

            # « Externalisation de la vidéo »: the cart's picture in a window of its own, and back.
            plays(doctor, "cart")
            window = doctor.get_by_role("button", name="Vidéo dans une fenêtre à part")
            if doctor.evaluate("() => document.pictureInPictureEnabled"):
                expect(window).to_be_enabled()
                window.click()
                doctor.wait_for_function("() => document.pictureInPictureElement === document.querySelector('video[data-peer=cart]')")
                doctor.get_by_role("button", name="Remettre la vidéo dans la page").click()
                doctor.wait_for_function("() => document.pictureInPictureElement === null")
            else:
                expect(window).to_have_count(0)  # no such window in this browser: no button

    chromium.run(scenario)


def test_a_browser_without_picture_in_picture_shows_no_such_button(cart: Cart, chromium: Chromium) -> None:
    address = "sans-fenetre@chu.example"
    cart.dossier(address)
    link = cart.emailed_link(address)

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            doctor = open_page()
            doctor.add_init_script("Object.defineProperty(Document.prototype, 'pictureInPictureEnabled', { get: () => false })")
            enter_room(doctor, link)
            expect(doctor.get_by_role("button", name="Quitter")).to_be_visible()
            expect(doctor.locator("#pip")).to_have_count(0)

    chromium.run(scenario)


# --- the room beside the dossier ----------------------------------------------------------------

def test_on_a_desktop_the_room_opens_beside_the_dossier(cart: Cart, chromium: Chromium, artifacts: Path) -> None:
    """1280x800: « Rejoindre l'appel » puts the room on the left and keeps the fiche, the vitals and
    the documents on the right, both on screen at once; a photo taken in the call shows in the
    dossier's documents; leaving gives the whole width back to the dossier."""
    address = "cote-a-cote@chu.example"
    dossier = cart.dossier(address)
    cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/vitals"), json={"kind": "temperature", "value": "37,9"})
    link = cart.emailed_link(address)
    assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            doctor = open_page()
            open_dossier(doctor, cart, link, address)
            url = doctor.url
            doctor.get_by_role("link", name="Rejoindre l'appel").click()
            expect(doctor.get_by_text("Vérifiez votre caméra et votre micro")).to_be_visible()
            assert doctor.url == url  # the same page, not another one
            expect(doctor.locator("#call-beside .check-settings")).to_be_visible()
            shot(doctor, artifacts, "specialiste-verification-a-cote-1280.png")
            doctor.get_by_role("button", name="Rejoindre la téléconsultation").click()
            plays(doctor, "cart")

            assert doctor.evaluate("() => document.documentElement.scrollHeight") == 800  # only the columns scroll
            picture, dossier_column = box(doctor, ".tile[data-peer=cart]"), box(doctor, "#specialist")
            fiche = box(doctor, "#specialist h1")
            vitals = doctor.locator('[data-part="vitals"]')
            expect(vitals).to_contain_text("37,9")
            for shown in (picture, fiche):
                assert shown["y"] >= 0 and shown["y"] + min(shown["height"], 100) <= 800, shown
            assert picture["x"] + picture["width"] <= dossier_column["x"], (picture, dossier_column)  # side by side
            assert picture["width"] >= 640, picture
            expect(doctor.locator(".first-screen .beside-note")).to_be_visible()
            expect(doctor.locator("#call-beside .controls a")).to_have_count(0)  # no « Ouvrir le télédossier »: it is here

            # The photo the doctor asks for lands in the dossier beside the call.
            doctor.get_by_role("button", name="Prendre une photo").click()
            expect(doctor.locator('[data-part="documents"] img')).to_have_count(1, timeout=30_000)
            vitals.scroll_into_view_if_needed()
            shot(doctor, artifacts, "specialiste-appel-et-dossier-1280.png")
            assert doctor.evaluate("() => document.documentElement.scrollWidth") <= 1280
            assert not doctor.problems.page_errors and not doctor.problems.console_errors, doctor.problems  # type: ignore[attr-defined]

            doctor.get_by_role("button", name="Quitter").click()
            doctor.get_by_role("button", name="Fermer l'appel").click()
            expect(doctor.locator("#call-beside")).to_have_count(0)
            expect(doctor.get_by_role("link", name="Rejoindre l'appel")).to_be_visible()

    chromium.run(scenario)


def test_in_the_call_beside_the_dossier_the_link_session_stays_open(tmp_path: Path, chromium: Chromium) -> None:
    """The doctor talks for longer than a link session's idle time without touching the dossier
    beside the call: writing the opinion afterwards needs no new code."""
    idle_minutes = 0.15
    with cart_with_mail(tmp_path, call={"lobby": False}, security={"idle_lock_minutes": idle_minutes}) as short:
        address = "long-appel@chu.example"
        link = cart_in_call_with(short, address)

        def scenario(browser: Browser) -> None:
            with contexts(browser) as open_page:
                doctor = open_page()
                open_dossier(doctor, short, link, address)
                doctor.get_by_role("link", name="Rejoindre l'appel").click()
                doctor.get_by_role("button", name="Rejoindre la téléconsultation").click()
                plays(doctor, "cart")
                doctor.wait_for_timeout(idle_minutes * 60_000 * 1.4)  # longer than the idle time, nothing touched on the dossier's side
                doctor.get_by_label("Avis de l'expert").fill("Revoir dans un mois, pansement inchangé.")
                doctor.get_by_role("button", name="Enregistrer").click()
                expect(doctor.get_by_text("Avis enregistré.")).to_be_visible()
                expect(doctor.get_by_role("button", name="Recevoir un code")).to_have_count(0)

        chromium.run(scenario)


def test_on_a_phone_the_room_keeps_its_own_page(cart: Cart, chromium: Chromium, artifacts: Path) -> None:
    """390 px: « Rejoindre l'appel » opens the room's page as before; its new buttons and lists fit
    a finger and the width."""
    address = "telephone@chu.example"
    link = cart_in_call_with(cart, address)

    def scenario(browser: Browser) -> None:
        with contexts(browser) as open_page:
            phone = open_page(viewport=PHONE, has_touch=True)
            open_dossier(phone, cart, link, address)
            expect(phone.locator(".presence")).to_contain_text("Dans la salle : 1 participant", timeout=10_000)
            shot(phone, artifacts, "specialiste-salle-occupee-390.png")
            phone.get_by_role("link", name="Rejoindre l'appel").tap()
            expect(phone).to_have_url(re.compile(r"\?vue=appel$"))
            expect(phone.get_by_label("Caméra", exact=True)).to_be_visible()
            check_screen(phone, "vérification, choix de la caméra et du micro, téléphone")
            shot(phone, artifacts, "appel-choix-camera-micro-390.png")
            phone.get_by_role("button", name="Rejoindre la téléconsultation").tap()
            plays(phone, "cart")
            # The resident's name above the cart's picture, not over it: on a phone the picture is small.
            expect(phone.locator(".resident-on-call")).to_be_visible()
            name, picture = (phone.locator(part).bounding_box() for part in (".resident-on-call", "video[data-peer=cart]"))
            assert name and picture and name["y"] + name["height"] <= picture["y"] + 1, (name, picture)
            check_screen(phone, "appel du médecin avec affichage et fenêtre, téléphone")
            phone.screenshot(path=str(artifacts / "appel-telephone-390.png"), full_page=True)
            phone.get_by_role("button", name="Mosaïque").tap()
            phone.screenshot(path=str(artifacts / "appel-mosaique-390.png"), full_page=True)

    chromium.run(scenario)
