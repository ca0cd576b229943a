"""What the call tests share: a cart with a mail relay on loopback, Chromium with a fake camera
and microphone, and readings of what a page's <video> really decoded."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from agent.access.roles import Role
from tests.api.helpers import CartBase, logged_in, patient
from tests.browser.kiosk import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, PageProblems
from tests.live import Account, free_port, running_agent
from tests.loopback import Inbox, eventually, link_in, smtp_server

API = "/api/v1"
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--autoplay-policy=no-user-gesture-required",
]


@dataclass
class Cart(CartBase):
    inbox: Inbox
    nurse: requests.Session
    nurse_account: Account

    def dossier(self, email: str = "claire.petit@chu.example", **parts: object) -> dict:
        made = self.nurse.post(self.url("/patients"), json=patient(birth_name="APPEL", confirm_duplicate=True)).json()
        body = {"patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
                "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Dermatologie", "email": email},
                "slot": {"now": True, "duration_minutes": 30}, "confirm_overlap": True, **parts}
        reply = self.nurse.post(self.url("/dossiers"), json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def emailed_link(self, address: str) -> str:
        """The link of the invitation email the relay received for `address`."""
        messages = eventually(lambda: [r.message for r in self.inbox.received if address in r.recipients], timeout=15)
        body = messages[-1].get_body(preferencelist=("plain",)).get_content()
        return link_in(body)


@contextlib.contextmanager
def cart_with_mail(root: Path, **sections: dict) -> Iterator[Cart]:
    inbox = Inbox()
    port = free_port()
    with smtp_server(inbox) as smtp_port, running_agent(
        root, port=port, server={"public_url": f"http://127.0.0.1:{port}"},
        dossiers={"establishment": "EHPAD Les Tilleuls"},
        mail={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none"}, **sections,
    ) as agent:
        account = agent.add_account(Role.NURSE)
        yield Cart(agent, inbox, logged_in(agent, account), account)


def leave_any_call(cart: Cart) -> None:
    """Take the cart out of whatever room it is in (a test that failed half-way, a cart that
    answered by itself): the next test would find it busy."""
    call = cart.nurse.get(cart.url("/call")).json()
    if call["in_call"]:
        where = f"/dossiers/{call['dossier_id']}" if call["dossier_id"] else f"/visio/{call['room']}"
        cart.nurse.delete(cart.url(f"{where}/call"))


def media_browser(playwright: Playwright, *extra: str) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + MEDIA_ARGS + list(extra))


def new_page(browser: Browser, **options: object) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris", **options)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


def people(browser: Browser, stack: contextlib.ExitStack, count: int) -> list[Page]:
    """`count` pages, each in a context of its own (a person with their own cookies and camera),
    closed with `stack`."""
    pages = []
    for _ in range(count):
        context, page = new_page(browser)
        stack.callback(context.close)
        pages.append(page)
    return pages


def in_media_browser(scenario: Callable[[Browser], Any]) -> Any:
    """`scenario(browser)` in a thread of its own with its own Playwright and Chromium (fake camera
    and microphone); what it raises is raised here. A thread of its own: a worker that already ran
    the kiosk's browser tests keeps Playwright's event loop on its main thread, where a second
    sync Playwright refuses to start."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                browser = media_browser(playwright)
                try:
                    outcome["value"] = scenario(browser)
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 (handed over to the test's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="playwright", daemon=True)
    thread.start()
    thread.join(120)
    if thread.is_alive():
        raise AssertionError("the browser scenario did not end within 120 s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# What a <video> decoded, read in the page: size, frames (requestVideoFrameCallback counts each
# frame presented), and the stamp the cart's simulated camera drew (drivers/camera/stamp.py).
VIDEO_PROBE = """
async ([selector, seconds]) => {
  const video = document.querySelector(selector);
  if (!video || !video.srcObject) return null;
  let frames = 0, first = null, last = null;
  const stamps = [];
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const readStamp = () => {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w) return null;
    canvas.width = w; canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    const row = ctx.getImageData(0, 8, 16 * 43, 1).data;
    if (row[8 * 4] < 128) return null;
    let value = 0;
    for (let i = 1; i < 43; i++) value = value * 2 + (row[(i * 16 + 8) * 4] >= 128 ? 1 : 0);
    return value;
  };
  await new Promise((resolve) => {
    const end = performance.now() + seconds * 1000;
    const tick = (now, meta) => {
      frames += 1;
      first = first ?? meta.presentedFrames;
      last = meta.presentedFrames;
      if (frames % 5 === 0) { const s = readStamp(); if (s !== null) stamps.push(Date.now() - s); }
      if (performance.now() < end) video.requestVideoFrameCallback(tick); else resolve();
    };
    video.requestVideoFrameCallback(tick);
  });
  const pixel = (x, y) => { canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    ctx.drawImage(video, 0, 0); return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)); };
  return { width: video.videoWidth, height: video.videoHeight, fps: (last - first) / seconds, delays: stamps,
           centre: pixel(Math.floor(video.videoWidth / 2), Math.floor(video.videoHeight / 2)) };
}
"""

# The loudness of a <video>'s sound (root mean square over a second), through WebAudio.
AUDIO_PROBE = """
async (selector) => {
  const video = document.querySelector(selector);
  if (!video || !video.srcObject || !video.srcObject.getAudioTracks().length) return null;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(video.srcObject).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let peak = 0;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50));
    analyser.getFloatTimeDomainData(data);
    peak = Math.max(peak, Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length));
  }
  context.close();
  return peak;
}
"""
