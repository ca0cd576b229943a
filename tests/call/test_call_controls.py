"""The call's controls, as the people in it notice them: a microphone muted (silence on the other
side, "micro coupé" on the kiosk) and the request to unmute it, the cart's own microphone and
camera cut from the kiosk, « connexion faible » for a poor link, screen sharing, a relative removed by
the specialist, and a chat message that stays text.

Each test drives the real pages in Chromium (fake camera and microphone: a moving picture and a
beep) through tests/call/harness.py; the kiosk is a touchscreen page, the participants desktop
pages. The cart is in one room at a time: each test makes its own dossier and leaves the room at
its end, but for the three that only switch a microphone on and off or write in the chat, which
share one call, the kiosk and the specialist of a `SharedCall`, on one Chromium of their worker:
each switches back what it switched, and the call is checked as found after each (the buttons'
states, no flag, no page error); a test that fails or leaves it changed fails, and the next one
gets a call of its own. The tests of the pictures (a camera cut, « connexion faible », a screen
shared) each have a fresh call: a call's encoders adapt to a loaded machine and keep it, and these
tests assert the picture's size and rate from the call's start.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Error, Page, expect, sync_playwright

from agent.access.roles import Role
from tests.browser.kiosk import problems_of, sign_in
from tests.call.harness import VIDEO_PROBE, Cart, cart_with_mail, in_media_browser, leave_any_call, media_browser, new_page
from tests.loopback import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CART_NAME = "Chariot — EHPAD Les Tilleuls"
SPECIALIST_NAME = "Dr Claire PETIT"
RELATIVE = {"kind": "relative", "companion": {"name": "LEFEBVRE", "first_name": "Paul", "remote": True,
                                              "email": "paul@famille.example"}}
HEARD = 0.001  # root mean square of a sound someone hears (both fake microphones beep)
SILENT = 0.0002  # what is left of a muted microphone: nothing

# Listens to a <video>'s sound every 50 ms until it is heard (one level above `threshold`) or has
# been silent (every level below it) for `quiet` seconds; gives up after `timeout` seconds. The
# cart's simulated microphone beeps 150 ms once a second: two seconds of silence is two beeps missed.
LISTEN = """
async ([selector, want, threshold, quiet, timeout]) => {
  const video = document.querySelector(selector);
  if (!video || !video.srcObject || !video.srcObject.getAudioTracks().length) return { ok: false, why: "no sound track" };
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(video.srcObject).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const start = performance.now();
  let quietSince = start, loudest = 0;
  try {
    while (performance.now() - start < timeout * 1000) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getFloatTimeDomainData(data);
      const level = Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
      loudest = Math.max(loudest, level);
      const now = performance.now();
      if (want === "heard" && level > threshold) return { ok: true, level, after: (now - start) / 1000 };
      if (want === "silent") {
        if (level >= threshold) { quietSince = now; loudest = 0; }
        else if (now - quietSince >= quiet * 1000) return { ok: true, after: (now - start) / 1000 };
      }
    }
    return { ok: false, loudest };
  } finally { context.close(); }
}
"""

# How many frames of the cart's video the participant's browser decoded so far.
CART_FRAMES = """
async () => {
  const pc = window.telecartRoom && window.telecartRoom.pcs.get("cart");
  if (!pc) return null;
  let frames = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0; });
  return frames;
}
"""


# The colour of one pixel of a <video>'s current picture.
PIXEL = """
([selector, x, y]) => {
  const video = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(video, 0, 0);
  return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
}
"""


def heard(page: Page, peer: str, timeout: float = 10.0) -> None:
    """The page hears `peer` (the first beep), within `timeout` seconds."""
    outcome = page.evaluate(LISTEN, [f"video[data-peer={peer}]", "heard", HEARD, 0, timeout])
    assert outcome["ok"], f"the sound of {peer} is not heard: {outcome}"


def silenced(page: Page, peer: str, quiet: float = 2.0, timeout: float = 10.0) -> None:
    """`peer` goes silent on the page: `quiet` seconds without a sound, within `timeout` seconds."""
    outcome = page.evaluate(LISTEN, [f"video[data-peer={peer}]", "silent", SILENT, quiet, timeout])
    assert outcome["ok"], f"the sound of {peer} does not stop: {outcome}"


def picture_size(page: Page, peer: str) -> tuple[int, int]:
    return tuple(page.evaluate(  # type: ignore[return-value]
        f"() => {{ const v = document.querySelector('video[data-peer={peer}]'); return v ? [v.videoWidth, v.videoHeight] : [0, 0]; }}"))


def picture_becomes(page: Page, peer: str, size: tuple[int, int], what: str, timeout: float = 15) -> None:
    """The page's picture of `peer` reaches `size`; a failure says the sizes it had meanwhile."""
    seen: list[tuple[int, int]] = []

    def check() -> bool:
        seen.append(picture_size(page, peer))
        return seen[-1] == size
    try:
        eventually(check, timeout=timeout, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error}; sizes seen: {sorted(set(seen))}") from None


def aspect(page: Page, peer: str) -> float:
    """Width over height of the page's picture of `peer` (0 without one): what resizing by the
    encoder (a loaded CPU, a poor link) keeps."""
    width, height = picture_size(page, peer)
    return width / height if height else 0.0


def playing(page: Page, peer: str, seconds: float = 1.0) -> dict:
    """What the page's video of `peer` presents over `seconds`, once it has a picture."""
    eventually(lambda: picture_size(page, peer)[0] > 0, timeout=15, what=f"a picture of {peer}")
    return page.evaluate(VIDEO_PROBE, [f"video[data-peer={peer}]", seconds])


TILE_FRAMES = """(peer) => {
  const video = document.querySelector(`.tile[data-peer="${peer}"] video`);
  return video ? video.getVideoPlaybackQuality().totalVideoFrames : null;
}"""


def frames_of_tile(page: Page, peer: str, seconds: float) -> int:
    """How many frames of `peer`'s tile the page presented in `seconds`."""
    before = page.evaluate(TILE_FRAMES, peer)
    time.sleep(seconds)
    return page.evaluate(TILE_FRAMES, peer) - before


def cart_frames_advance(page: Page, seconds: float = 1.5) -> int:
    """How many frames of the cart's video the page decoded in `seconds`."""
    before = page.evaluate(CART_FRAMES)
    time.sleep(seconds)
    return page.evaluate(CART_FRAMES) - before


def join(browser: Browser, link: str, typed: str = "", admitted_by: Page | None = None, **options: object) -> Page:
    """A participant opens their link, checks camera and microphone, and enters the room; someone
    who waits in the lobby types `typed` as their name and is let in by `admitted_by`."""
    page = open_link(browser, link, typed, **options)
    page.get_by_role("button", name="Rejoindre la téléconsultation").click()
    if admitted_by is not None:
        expect(page.get_by_role("heading", name="Salle d'attente")).to_be_visible()
        admitted_by.locator(".lobby .waiting-person").filter(has_text=typed).get_by_role("button", name="Faire entrer").click()
    page.wait_for_function("() => window.telecartRoom && window.telecartRoom.me")
    return page


def open_link(browser: Browser, link: str, typed: str = "", **options: object) -> Page:
    _, page = new_page(browser, **options)
    page.goto(link + "?vue=appel")  # the specialist's « Rejoindre l'appel » (the bare link opens the dossier)
    expect(page.get_by_text("Vérifiez votre caméra et votre micro")).to_be_visible()
    if typed:
        page.locator("#my-name").fill(typed)
    return page


def member_id(page: Page) -> str:
    return page.evaluate("() => window.telecartRoom.me.id")


def kiosk_enters(cart: Cart, browser: Browser, dossier: dict) -> Page:
    """A nurse of its own (one-time codes are per account) signs in on the kiosk and enters the room."""
    _, kiosk = new_page(browser, has_touch=True)
    sign_in(kiosk, cart.agent, cart.agent.add_account(Role.NURSE))
    kiosk.goto(f"{cart.agent.url}/#/dossier/{dossier['id']}")
    kiosk.get_by_role("button", name="Entrer en salle").tap()
    expect(kiosk.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
    return kiosk


@dataclass
class Call:
    kiosk: Page
    specialist: Page
    doctor: str  # the specialist's member id ("p<n>")
    dossier: dict


@contextlib.contextmanager
def call(cart: Cart, browser: Browser, email: str, specialist_options: dict | None = None,
         **parts: object) -> Iterator[Call]:
    """The kiosk in the room and the specialist joined from the emailed link, each seeing the other;
    the cart leaves the room at the end, whatever happened."""
    dossier = cart.dossier(email, **parts)
    try:
        kiosk = kiosk_enters(cart, browser, dossier)
        specialist = join(browser, cart.emailed_link(email), **(specialist_options or {}))
        doctor = member_id(specialist)
        playing(specialist, "cart", 0.3)
        playing(kiosk, doctor, 0.3)
        yield Call(kiosk, specialist, doctor, dossier)
        for page in (kiosk, specialist):
            assert not problems_of(page).page_errors, problems_of(page).page_errors
    finally:
        cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))


class SharedCall:
    """One call (`call()`: the kiosk in the room, the specialist joined, each seeing the other) for
    the tests that only switch what it carries, on a Chromium of its own that a thread keeps (as
    in_media_browser does, Playwright's sync API in a thread of its own). `run(scenario)` hands
    the scenario the call, made at the first run or after a test that failed, then checks that the
    call is as found; a scenario that fails, or leaves the call changed, fails its test and the call
    is left (the next test gets a new one). `leave()`: the cart leaves the room and the Chromium
    closes, as after in_media_browser (before a test with a call of its own)."""

    def __init__(self, cart: Cart) -> None:
        self.cart = cart
        self._jobs: queue.Queue[tuple[Callable[[Browser], Any], dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._call: Call | None = None
        self._stack: contextlib.ExitStack | None = None
        self._made = itertools.count(1)
        self._dead: BaseException | None = None

    def run(self, scenario: Callable[[Call], None]) -> None:
        def job(browser: Browser) -> None:
            if self._call is None:
                self._open(browser)
            assert self._call is not None
            try:
                scenario(self._call)
                self._as_found(self._call)
            except BaseException as failed:
                self._close(failed)
                raise

        if self._thread is None:  # a new Chromium, a new call
            self._jobs, self._dead, self._call, self._stack = queue.Queue(), None, None, None
            self._thread = threading.Thread(target=self._serve, name="playwright (shared call)", daemon=True)
            self._thread.start()
        self._submit(job)

    def leave(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            if self._call is not None and thread.is_alive():
                self._submit(lambda browser: self._close(None), thread)
        finally:
            self._jobs.put(None)
            thread.join(30)

    # --- in the browser's thread ------------------------------------------------------------

    def _serve(self) -> None:
        try:
            with sync_playwright() as playwright:
                browser = media_browser(playwright)
                try:
                    while (job := self._jobs.get()) is not None:
                        work, outcome = job
                        try:
                            outcome["value"] = work(browser)
                        except BaseException as exc:  # noqa: BLE001 (handed over to the test's thread)
                            outcome["error"] = exc
                        outcome["done"].set()
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 (Playwright or Chromium did not start, or died)
            self._dead = exc

    def _open(self, browser: Browser) -> None:
        leave_any_call(self.cart)  # a call a failed test may have left
        stack = contextlib.ExitStack()
        try:
            self._call = stack.enter_context(call(self.cart, browser, f"controles-{next(self._made)}@chu.example"))
        except BaseException:
            stack.close()
            raise
        self._stack = stack

    def _as_found(self, c: Call) -> None:
        """What a test must leave as it found it (and the side panel it opens on, the chat)."""
        kiosk, specialist = c.kiosk, c.specialist
        for page in (kiosk, specialist):
            assert not problems_of(page).page_errors, problems_of(page).page_errors
        kiosk.get_by_role("tab", name="Discussion").tap()
        expect(kiosk.locator("#mute"), "left as found: the cart's microphone on").to_have_text("Couper le micro du chariot")
        expect(kiosk.get_by_role("button", name="Couper la caméra", exact=True), "left as found: the cart's camera on").to_be_visible()
        expect(kiosk.locator("#poor-link"), "left as found: the cart's video on").to_have_text("Connexion faible")
        expect(specialist.locator("#mute"), "left as found: the specialist's microphone on").to_have_text("Couper le micro")
        expect(specialist.locator("#audio-only"), "left as found: the specialist's video on").to_have_text("Connexion faible")
        expect(specialist.locator(".tile.main .tile-flags"), "left as found: no flag on the cart").to_have_text("")
        expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags"), "left as found: no flag on the specialist").to_have_text("")

    def _close(self, failed: BaseException | None) -> None:
        """The cart leaves the room (`call()`'s end: its pages' errors checked unless a test failed)."""
        c, stack = self._call, self._stack
        self._call = self._stack = None
        try:
            if stack is not None:
                if failed is None:
                    stack.close()
                else:
                    stack.__exit__(type(failed), failed, failed.__traceback__)
        finally:
            for page in (c.kiosk, c.specialist) if c else ():
                with contextlib.suppress(Error):
                    page.context.close()

    # --- from the test's thread -------------------------------------------------------------

    def _submit(self, work: Callable[[Browser], Any], thread: threading.Thread | None = None) -> Any:
        thread = thread or self._thread
        assert thread is not None
        outcome: dict[str, Any] = {"done": threading.Event()}
        self._jobs.put((work, outcome))
        deadline = time.monotonic() + 120
        while not outcome["done"].wait(0.5):
            if not thread.is_alive():
                raise AssertionError(f"the shared call's browser is gone: {self._dead!r}") from self._dead
            if time.monotonic() > deadline:
                raise AssertionError("the browser scenario did not end within 120 s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("controls")) as cart:
        yield cart


_SHARED: list[SharedCall] = []  # the worker's shared call, once made


@pytest.fixture(scope="module")
def shared_call(cart: Cart) -> Iterator[SharedCall]:
    shared = SharedCall(cart)
    _SHARED.append(shared)
    try:
        yield shared
    finally:
        _SHARED.remove(shared)
        shared.leave()


@pytest.fixture(autouse=True)
def _one_room_at_a_time(request: pytest.FixtureRequest) -> None:
    """The cart is in one room at a time: a test with a call of its own finds the shared call left.
    (The tests sharing it come one after the other in the module, so that xdist's batches often
    give them to a worker together.)"""
    if "shared_call" not in request.fixturenames:
        for shared in _SHARED:
            shared.leave()


def test_a_muted_specialist_is_silent_and_asked_to_unmute(shared_call: SharedCall) -> None:
    def scenario(c: Call) -> None:
        kiosk, specialist = c.kiosk, c.specialist
        heard(kiosk, c.doctor)  # Chromium's fake microphone beeps
        kiosk.get_by_role("tab", name="Participants").tap()
        row = kiosk.locator(f".member[data-member={c.doctor}]")
        expect(row).to_contain_text(SPECIALIST_NAME)
        expect(row).not_to_contain_text("micro coupé")

        specialist.get_by_role("button", name="Couper le micro").click()
        expect(specialist.locator("#mute")).to_have_text("Activer le micro")
        expect(row).to_contain_text("micro coupé")
        expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags")).to_have_text("micro coupé")
        silenced(kiosk, c.doctor)

        # The kiosk (a moderator) asks; the specialist reads it, the button stands out.
        row.get_by_role("button", name="Demander d'activer le micro").tap()
        expect(kiosk.locator("#toasts")).to_contain_text(f"Demande envoyée à {SPECIALIST_NAME}.")
        expect(specialist.locator("#toasts")).to_contain_text(f"{CART_NAME} vous demande d'activer votre micro.")
        expect(specialist.locator("#mute")).to_have_class(re.compile(r"\battention\b"))  # outlined

        specialist.get_by_role("button", name="Activer le micro").click()
        expect(row).not_to_contain_text("micro coupé")
        expect(row.get_by_role("button", name="Demander d'activer le micro")).to_have_count(0)
        expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags")).to_have_text("")
        heard(kiosk, c.doctor)

    shared_call.run(scenario)


def test_back_in_the_room_the_kiosk_still_shows_the_carts_microphone_muted(shared_call: SharedCall, cart: Cart) -> None:
    def scenario(c: Call) -> None:
        kiosk, specialist = c.kiosk, c.specialist
        kiosk.get_by_role("button", name="Couper le micro du chariot").tap()
        cart_flags = specialist.locator(".tile.main .tile-flags")
        expect(cart_flags).to_have_text("micro coupé")
        # The nurse looks at the dossier, then goes back into the room: the cart stayed in it, muted.
        kiosk.goto(f"{cart.agent.url}/#/dossier/{c.dossier['id']}")
        kiosk.get_by_role("button", name="Entrer en salle").tap()
        expect(kiosk.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
        expect(cart_flags).to_have_text("micro coupé")
        expect(kiosk.locator("#mute")).to_have_text("Activer le micro du chariot", timeout=3_000)
        kiosk.locator("#mute").tap()
        expect(cart_flags).to_have_text("", timeout=3_000)

    shared_call.run(scenario)


def test_a_chat_message_stays_text_and_may_be_long(shared_call: SharedCall) -> None:
    def scenario(c: Call) -> None:
        kiosk, specialist = c.kiosk, c.specialist
        # The link alone (no code typed on this browser) names no resident over the call.
        expect(specialist.locator(".resident-on-call")).to_be_hidden()
        specialist.locator("#chat-text").fill("<b>gras</b> & <img src=x onerror=alert(1)>")
        specialist.get_by_role("button", name="Envoyer", exact=True).click()
        item = kiosk.locator(".chat-item").filter(has_text="gras")
        expect(item.locator("p")).to_have_text("<b>gras</b> & <img src=x onerror=alert(1)>")
        expect(item.locator("b, img")).to_have_count(0)
        expect(item).to_contain_text(SPECIALIST_NAME)

        # A long message (pasted): the field keeps 2000 characters, all of which arrive.
        long = ("Antécédents : " + "eczéma atopique, " * 200)[:2100]
        kiosk.locator("#chat-text").tap()
        kiosk.keyboard.insert_text(long)
        assert len(kiosk.locator("#chat-text").input_value()) == 2000
        kiosk.get_by_role("button", name="Envoyer", exact=True).tap()
        received = specialist.locator(".chat-item").filter(has_text="Antécédents")
        expect(received.locator("p")).to_have_text(long[:2000].strip())
        expect(received).to_contain_text(CART_NAME)
        expect(kiosk.locator("#chat-text")).to_have_value("")

    shared_call.run(scenario)


def test_the_kiosk_cuts_the_carts_microphone_and_camera_or_chooses_connexion_faible(cart: Cart) -> None:
    def scenario(browser: Browser) -> None:
        with call(cart, browser, "chariot-muet@chu.example") as c:
            kiosk, specialist = c.kiosk, c.specialist
            heard(specialist, "cart")  # the simulated microphone beeps once a second
            assert picture_size(specialist, "cart") == (1280, 720)
            cart_flags = specialist.locator(".tile.main .tile-flags")

            kiosk.get_by_role("button", name="Couper le micro du chariot").tap()
            expect(kiosk.locator("#mute")).to_have_text("Activer le micro du chariot")
            expect(cart_flags).to_have_text("micro coupé")
            silenced(specialist, "cart")
            kiosk.get_by_role("button", name="Activer le micro du chariot").tap()
            expect(cart_flags).to_have_text("")
            heard(specialist, "cart")

            kiosk.get_by_role("button", name="Couper la caméra", exact=True).tap()
            expect(cart_flags).to_have_text("vidéo coupée")
            picture_becomes(specialist, "cart", (640, 360), "the still 'Vidéo coupée' frame (640 × 360)")
            still = specialist.evaluate(VIDEO_PROBE, ["video[data-peer=cart]", 0.5])
            assert not still["delays"], "the cart's stamped camera frames still reach the specialist"
            grey = specialist.evaluate(PIXEL, ["video[data-peer=cart]", 20, 340])  # the still is plain dark grey
            assert max(grey) < 80 and max(grey) - min(grey) < 12, grey
            kiosk.get_by_role("button", name="Activer la caméra", exact=True).tap()
            expect(cart_flags).to_have_text("")
            picture_becomes(specialist, "cart", (1280, 720), "the cart's camera back in 720p")
            eventually(lambda: playing(specialist, "cart", 1.0)["fps"] > 5, timeout=15, what="the cart's camera moving again")

            # A poor network at the EHPAD: the nurse chooses « Connexion faible » for the cart, the
            # specialist gets the sound and a still picture every few seconds.
            kiosk.get_by_role("button", name="Connexion faible").tap()
            expect(kiosk.locator("#poor-link")).to_have_text("Revenir à la vidéo")
            eventually(lambda: 1 <= cart_frames_advance(specialist, 6.5) <= 3, timeout=30,
                       what="a still picture of the cart every few seconds")
            heard(specialist, "cart")
            kiosk.get_by_role("button", name="Revenir à la vidéo").tap()
            eventually(lambda: cart_frames_advance(specialist, 1.0) > 5, timeout=15, what="the cart's moving picture back")

    in_media_browser(scenario)


def test_connexion_faible_sends_that_participant_sound_and_a_still_picture(cart: Cart) -> None:
    def scenario(browser: Browser) -> None:
        with call(cart, browser, "audio-seul@chu.example") as c:
            kiosk, specialist = c.kiosk, c.specialist
            eventually(lambda: cart_frames_advance(specialist, 1.0) > 5, timeout=15, what="the cart's moving picture")

            doctor_frames = lambda seconds: frames_of_tile(kiosk, c.doctor, seconds)  # noqa: E731
            eventually(lambda: doctor_frames(1.0) > 5, timeout=15, what="the specialist's moving picture on the cart's screen")

            specialist.get_by_role("button", name="Connexion faible").click()
            expect(specialist.locator("#audio-only")).to_have_text("Revenir à la vidéo")
            expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags")).to_have_text("connexion faible")
            kiosk.get_by_role("tab", name="Participants").tap()
            expect(kiosk.locator(f".member[data-member={c.doctor}]")).to_contain_text("connexion faible")
            # The cart's camera comes as a still picture made again every 3 s (a smaller one: 360p)
            eventually(lambda: 1 <= cart_frames_advance(specialist, 6.5) <= 3, timeout=30,
                       what="a still picture of the cart every few seconds")
            assert picture_size(specialist, "cart") == (640, 360)
            heard(specialist, "cart")  # the sound goes on
            # and the other way: the specialist's camera reaches the cart's screen as a still too
            eventually(lambda: 1 <= doctor_frames(6.5) <= 3, timeout=30, what="a still picture of the specialist on the kiosk")

            specialist.get_by_role("button", name="Revenir à la vidéo").click()
            expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags")).to_have_text("")
            eventually(lambda: cart_frames_advance(specialist, 1.0) > 5, timeout=15, what="the cart's video back to the specialist")
            eventually(lambda: playing(specialist, "cart", 1.0)["fps"] > 5, timeout=15, what="the cart's video playing again")

    in_media_browser(scenario)


def test_the_specialist_shares_a_screen(cart: Cart) -> None:
    """Headless Chromium with the harness's fake devices answers getDisplayMedia without a picker (no
    extra flag needed): a fake capture the size of the context's screen, here 4:3 (640 × 480), where
    the fake camera gives 16:9 (1280 × 720). Aspects are compared: the encoder may scale down."""

    def scenario(browser: Browser) -> None:
        with call(cart, browser, "ecran@chu.example", specialist_options={"screen": {"width": 640, "height": 480}}) as c:
            kiosk, specialist = c.kiosk, c.specialist
            camera = eventually(lambda: aspect(kiosk, c.doctor), timeout=15, what="the specialist's camera on the kiosk")
            assert abs(camera - 16 / 9) < 0.02, picture_size(kiosk, c.doctor)

            specialist.get_by_role("button", name="Partager l'écran").click()
            expect(kiosk.locator(f".tile[data-peer={c.doctor}] .tile-flags")).to_have_text("partage d'écran")
            eventually(lambda: abs(aspect(kiosk, c.doctor) - 4 / 3) < 0.02, timeout=15, what="the shared screen (4:3) on the kiosk's tile of the specialist")
            assert playing(kiosk, c.doctor, 1.0)["fps"] > 2
            # The cart's picture, to the specialist, is unchanged.
            assert picture_size(specialist, "cart") == (1280, 720)

    in_media_browser(scenario)


def test_the_specialist_removes_a_relative(cart: Cart) -> None:
    def scenario(browser: Browser) -> None:
        with call(cart, browser, "retrait@chu.example", accompaniment=RELATIVE) as c:
            kiosk, specialist = c.kiosk, c.specialist
            relative = join(browser, cart.emailed_link(RELATIVE["companion"]["email"]), typed="Paul LEFEBVRE", admitted_by=specialist)
            paul = member_id(relative)
            playing(kiosk, paul, 0.3)
            expect(kiosk.locator(f".tile[data-peer={paul}]")).to_contain_text("Paul LEFEBVRE")

            row = specialist.locator(f".members .member[data-member={paul}]")
            expect(row).to_contain_text("Proche")
            row.get_by_role("button", name="Retirer").click()
            expect(row.get_by_role("button", name="Confirmer le retrait")).to_be_visible()
            expect(relative.locator(".call")).to_be_visible()  # one tap is not enough
            row.get_by_role("button", name="Confirmer le retrait").click()

            expect(relative.get_by_role("heading", name="Vous avez été retiré de la salle")).to_be_visible()
            expect(relative.locator(".call-ended")).to_contain_text(f"{SPECIALIST_NAME} vous a retiré de la salle.")
            expect(kiosk.locator(f".tile[data-peer={paul}]")).to_have_count(0)
            expect(specialist.locator(f".members .member[data-member={paul}]")).to_have_count(0)
            expect(specialist.locator(f"video[data-peer={paul}]")).to_have_count(0)
            # The others go on.
            assert playing(kiosk, c.doctor, 0.5)["fps"] > 2

    in_media_browser(scenario)


def test_a_stranger_with_a_forwarded_link_waits_and_is_turned_away(cart: Cart, artifacts: Path) -> None:
    """The relative's link forwarded to someone else: they wait in the lobby seeing nothing of the
    room; the specialist hears them arrive, reads the name they typed and whose link it is, and
    turns them away; they are told."""
    dossier = cart.dossier("attente@chu.example", accompaniment={"kind": "relative", "companion": {
        "name": "GARNIER", "first_name": "Luc", "remote": True, "email": "luc@famille.example"}})
    try:
        def scenario(browser: Browser) -> None:
            specialist = join(browser, cart.emailed_link("attente@chu.example"))
            stranger = open_link(browser, cart.emailed_link("luc@famille.example"), typed="Un inconnu")
            stranger.get_by_role("button", name="Rejoindre la téléconsultation").click()
            expect(stranger.get_by_role("heading", name="Salle d'attente")).to_be_visible()
            waiting = specialist.locator(".lobby .waiting-person")
            expect(waiting).to_contain_text("Un inconnu")
            expect(waiting).to_contain_text("lien de Luc GARNIER (proche)")
            assert specialist.evaluate("() => window.telecartChimes") == 1
            assert stranger.evaluate("() => window.telecartRoom.me") is None  # nothing of the room reached them
            expect(stranger.locator("video[data-peer=cart]")).not_to_be_visible()
            specialist.screenshot(path=str(artifacts / "call-lobby-specialist.png"))
            waiting.get_by_role("button", name="Refuser").click()
            expect(stranger.get_by_role("heading", name="Salle d'attente")).to_be_visible()  # one tap is not enough
            waiting.get_by_role("button", name="Confirmer le refus").click()
            expect(stranger.get_by_role("heading", name="Entrée refusée")).to_be_visible()
            expect(stranger.locator(".call-ended")).to_contain_text("ne vous a pas fait entrer")
            expect(specialist.locator(".lobby")).to_be_hidden()

        in_media_browser(scenario)
    finally:
        cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))


def test_a_removed_relative_cannot_come_back(cart: Cart) -> None:
    """No kiosk needed: the room is live as soon as someone is in it."""
    dossier = cart.dossier("retour@chu.example", accompaniment={"kind": "relative", "companion": {
        "name": "LEFEBVRE", "first_name": "Marc", "remote": True, "email": "marc@famille.example"}})
    try:
        def scenario(browser: Browser) -> None:
            specialist = join(browser, cart.emailed_link("retour@chu.example"))
            link = cart.emailed_link("marc@famille.example")
            relative = join(browser, link, typed="Marc LEFEBVRE", admitted_by=specialist)
            marc = member_id(relative)
            row = specialist.locator(f".members .member[data-member={marc}]")
            row.get_by_role("button", name="Retirer").click()
            row.get_by_role("button", name="Confirmer le retrait").click()
            expect(relative.get_by_role("heading", name="Vous avez été retiré de la salle")).to_be_visible()

            # He opens his link again and tries to join: he must be told he cannot.
            relative.goto(link)
            if relative.locator("#room").count():  # the room's page: the camera check, then the room
                relative.locator("#my-name").fill("Marc LEFEBVRE")
                relative.get_by_role("button", name="Rejoindre la téléconsultation").click()
                expect(relative.locator(".call-ended, .connection:visible")).to_be_visible()  # whichever comes first
            expect(relative.locator("body")).to_contain_text("retiré", timeout=2_000)
            expect(relative.locator(".connection:visible")).to_have_count(0)
            assert marc not in specialist.evaluate("() => [...window.telecartRoom.members.keys()]")

        in_media_browser(scenario)
    finally:
        cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))


def test_the_specialist_asks_a_muted_relative_to_unmute(cart: Cart) -> None:
    """No kiosk needed: the specialist moderates the participants too."""
    cart.dossier("demande@chu.example", accompaniment={"kind": "relative", "companion": {
        "name": "LEFEBVRE", "first_name": "Sophie", "remote": True, "email": "sophie@famille.example"}})

    def scenario(browser: Browser) -> None:
        specialist = join(browser, cart.emailed_link("demande@chu.example"))
        relative = join(browser, cart.emailed_link("sophie@famille.example"), typed="Sophie LEFEBVRE", admitted_by=specialist)
        sophie = member_id(relative)
        relative.get_by_role("button", name="Couper le micro").click()
        row = specialist.locator(f".members .member[data-member={sophie}]")
        expect(row).to_contain_text("micro coupé")
        row.get_by_role("button", name="Demander d'activer le micro").click()
        expect(relative.locator("#toasts")).to_contain_text(f"{SPECIALIST_NAME} vous demande d'activer votre micro.")
        expect(relative.locator("#mute")).to_have_class(re.compile(r"\battention\b"))
        relative.get_by_role("button", name="Activer le micro").click()
        expect(row).not_to_contain_text("micro coupé")
        expect(relative.locator("#mute")).not_to_have_class(re.compile(r"\battention\b"), timeout=2_000)

    in_media_browser(scenario)
