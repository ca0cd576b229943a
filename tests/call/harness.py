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
from tests.browser.kiosk import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, PageProblems, problems_of
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


# --- joining and probing a call (the call tests share these) -----------------------------------------

JOIN = "Rejoindre la téléconsultation"
SPECIALIST = "claire.petit@chu.example"
RELATIVE = {"kind": "relative", "companion": {"name": "LEFEBVRE", "first_name": "Paul", "remote": True,
                                              "email": "paul@famille.example"}}
PROFESSIONAL = {"role": "professional", "name": "MOREAU", "first_name": "Julie", "email": "julie.moreau@cabinet.example"}
HEARD = 0.001  # root mean square of a sound someone hears; silence is 0 (Chromium's fake microphone beeps)



def join(page: Page, link: str, typed: str = "", admitted_by: Page | None = None) -> str:
    """Open an invitation link, pass the device check, enter the room; the member id it got.
    Someone who waits in the lobby types `typed` and is let in by `admitted_by`."""
    page.goto(link + "?vue=appel")  # the specialist's « Rejoindre l'appel » (the bare link opens the dossier)
    if typed:
        page.locator("#my-name").fill(typed)
    page.get_by_role("button", name=JOIN).click()
    if admitted_by is not None:
        admitted_by.locator(".lobby .waiting-person").filter(has_text=typed).get_by_role("button", name="Faire entrer").click()
    page.wait_for_function("() => window.telecartRoom && window.telecartRoom.me", timeout=15_000)
    return page.evaluate("() => window.telecartRoom.me.id")


def wait_for_picture(page: Page, peer: str, timeout: float = 20_000) -> None:
    page.wait_for_function("(peer) => { const v = document.querySelector(`video[data-peer=${peer}]`);"
                           " return Boolean(v && v.videoWidth > 0); }", arg=peer, timeout=timeout)


# Probes started in every page at once, their results read afterwards: a second of listening in
# each of three pages takes a second, not three. A probe runs up to `rounds` times, one after the
# other, until its result passes `enough` (the cart beeps once a second: one second of listening
# may fall between two beeps, or be starved of CPU on a loaded machine); each round gives up
# after `limit` ms (a video whose frames stopped would otherwise never call back).
_START = """([key, limit, rounds, enough, args]) => {
  window.__probes = window.__probes || {};
  const run = PROBE;
  const once = (arg) => Promise.race([run(arg), new Promise((resolve) => setTimeout(() => resolve("no answer"), limit))]);
  window.__probes[key] = Promise.all(args.map(async (arg) => {
    const results = [];
    for (let i = 0; i < rounds; i++) {
      const result = await once(arg);
      results.push(result);
      if (enough === null || (typeof result === "number" && result > enough)) break;
    }
    return results;
  }));
}"""


def start_probes(page: Page, key: str, probe: str, args: list[Any], rounds: int = 1, enough: float | None = None,
                 limit_ms: int = 20_000) -> None:
    page.evaluate(_START.replace("PROBE", probe.strip()), [key, limit_ms, rounds, enough, args])


def probe_results(page: Page, key: str) -> list[list[Any]]:
    """For each probed argument, the result of each round."""
    return page.evaluate("(key) => window.__probes[key]", key)


def loudest(rounds: list[Any]) -> Any:
    heard = [r for r in rounds if isinstance(r, (int, float))]
    return max(heard) if heard else rounds


# Frames presented by a <video> (requestVideoFrameCallback), counted until `wanted` came or
# `seconds` passed: moving pictures, however loaded the machine, and a frozen one told apart.
FRAMES_ADVANCE = """async ([selector, wanted, seconds]) => {
  const video = document.querySelector(selector);
  if (!video || !video.srcObject) return null;
  const start = performance.now();
  let frames = 0;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    const tick = () => {
      frames += 1;
      if (frames >= wanted) { clearTimeout(timer); resolve(); } else video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  });
  return { frames, seconds: (performance.now() - start) / 1000, width: video.videoWidth, height: video.videoHeight };
}"""
# Frames that tell a moving picture from a frozen one: a quarter of a second of a participant's
# camera, a sixth of the cart's; the 15 s allowed are for a machine running other suites too.
MOVING = 5


SELECTED_PAIR = """async (peer) => {
  const pc = window.telecartRoom.pcs.get(peer);
  if (!pc) return null;
  const report = await pc.getStats();
  let pair = null;
  report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  if (!pair) return { state: pc.connectionState };
  const local = report.get(pair.localCandidateId), remote = report.get(pair.remoteCandidateId);
  const gathered = [];
  report.forEach((s) => { if (s.type === "local-candidate") gathered.push(s.candidateType); });
  return { state: pc.connectionState, local: local.candidateType, localAddress: local.address, localPort: local.port,
           localUrl: local.url, relayProtocol: local.relayProtocol, remote: remote.candidateType,
           remoteAddress: remote.address, remotePort: remote.port, bytesReceived: pair.bytesReceived, gathered };
}"""


def assert_page_clean(page: Page) -> None:
    problems = problems_of(page)
    assert not problems.page_errors, "uncaught JavaScript exceptions:\n" + "\n".join(problems.page_errors)
    assert not problems.console_errors, "console errors:\n" + "\n".join(problems.console_errors)


@contextlib.contextmanager
def agent_log_on_failure(cart: Cart) -> Iterator[None]:
    """The end of the agent's log in the test's output when anything in the block fails."""
    try:
        yield
    except BaseException:
        print(f"--- agent log ({cart.agent.log_path}) ---\n{cart.agent.log()[-6000:]}")
        raise


def relayed_in_metrics(cart: Cart) -> bool:
    """The technician's view (/metrics, fed by the participant's page): the media path is relayed."""
    text = requests.get(f"{cart.agent.url}/metrics", timeout=5).text
    return any(line.startswith("telecart_call_codec_info{") and 'candidate="relay"' in line and line.endswith(" 1.0")
               for line in text.splitlines())


def enter_call(cart: Cart, dossier_id: str) -> None:
    reply = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/call"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["in_call"] is True
