"""A call relayed through a real TURN server, and a call of several people at once.

- Relay: Debian's coturn (`turnserver`) runs on loopback with long-term credentials; the cart is
  configured with it and `ice_transport_policy = "relay"` (docs/coturn.md). The specialist joins
  from Chromium through the emailed link: the cart's 720p video plays, and the path Chromium chose
  runs from its own relayed address to the cart's relayed address, both on our coturn.
- Mesh: the specialist, a remote relative and another professional (invited during the dossier's
  life) join from three Chromium profiles; the cart enters: each of them sees and hears the cart
  and each of the others.

The browsers are driven from a thread of their own: Playwright's sync API refuses to start while
another one runs in the same thread (tests/browser's session-wide browser, in a full run).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.browser.kiosk import problems_of
from tests.call.harness import AUDIO_PROBE, VIDEO_PROBE, Cart, cart_with_mail, in_media_browser, new_page, people
from tests.call.turn import Turn, assert_relayed_call, running_coturn
from tests.loopback import eventually

pytestmark = pytest.mark.browser

JOIN = "Rejoindre la téléconsultation"
SPECIALIST = "claire.petit@chu.example"
RELATIVE = {"kind": "relative", "companion": {"name": "LEFEBVRE", "first_name": "Paul", "remote": True,
                                              "email": "paul@famille.example"}}
PROFESSIONAL = {"role": "professional", "name": "MOREAU", "first_name": "Julie", "email": "julie.moreau@cabinet.example"}
HEARD = 0.001  # root mean square of a sound someone hears; silence is 0 (Chromium's fake microphone beeps)


# --- coturn on loopback (tests/call/turn.py) -----------------------------------------------------

@pytest.fixture
def coturn(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Turn]:
    """coturn on 127.0.0.1, ready when it answers STUN; stopped at the end, its log printed when
    the test failed."""
    failed_before = request.session.testsfailed
    with running_coturn(tmp_path / "coturn", getattr(request, "param", None),
                        failed=lambda: request.session.testsfailed > failed_before) as turn:
        yield turn


# --- browsers -------------------------------------------------------------------------------------

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


# --- the tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])  # tcp: what passes a hospital's firewall (docs/coturn.md)
def test_a_call_is_relayed_through_coturn_with_relay_only_ice(coturn: Turn, tmp_path: Path, transport: str) -> None:
    call = {"ice_servers": [{"urls": [coturn.url(transport)], "username": "test", "credential": "test"}], "ice_transport_policy": "relay"}
    with cart_with_mail(tmp_path, call=call) as cart, agent_log_on_failure(cart):
        made = cart.dossier(email=SPECIALIST)
        link = cart.emailed_link(SPECIALIST)

        def scenario(browser: Browser) -> tuple[dict, dict, float]:
            context, page = new_page(browser)
            try:
                join(page, link)
                enter_call(cart, made["id"])
                wait_for_picture(page, "cart")
                start_probes(page, "video", VIDEO_PROBE, [["video[data-peer=cart]", 2]])
                start_probes(page, "sound", AUDIO_PROBE, ["video[data-peer=cart]"], rounds=5, enough=HEARD)
                (video,), = probe_results(page, "video")
                sound = loudest(probe_results(page, "sound")[0])
                path = page.evaluate(SELECTED_PAIR, "cart")
                eventually(lambda: relayed_in_metrics(cart), timeout=10)  # before the page leaves
                assert_page_clean(page)
                return video, path, sound
            finally:
                context.close()

        video, path, sound = in_media_browser(scenario)

        # What the specialist sees and hears (the simulated microphone beeps once a second), and it
        # came through coturn both ways: Chromium's relayed address to the cart's relayed one.
        assert_relayed_call(video, sound, path, HEARD)
        assert path["relayProtocol"] == transport, path
        assert f":{coturn.port}" in path["localUrl"], path
        for port in (path["localPort"], path["remotePort"]):
            assert port in coturn.relay_ports, f"{path} not relayed by our coturn ({coturn.relay_ports})"
        assert path["bytesReceived"] > 20_000, path  # the media itself took this path


def test_three_participants_see_and_hear_each_other(tmp_path: Path, artifacts: Path) -> None:
    """The room at its fullest (max_remote_participants = 3): the specialist, a relative from home
    and a professional invited after the dossier was made, each in a browser of their own, and the
    cart."""
    with cart_with_mail(tmp_path) as cart, agent_log_on_failure(cart):
        made = cart.dossier(email=SPECIALIST, accompaniment=RELATIVE)
        invited = cart.nurse.post(cart.url(f"/dossiers/{made['id']}/invitations"), json=PROFESSIONAL)
        assert invited.status_code == 201, invited.text
        links = [cart.emailed_link(address) for address in (SPECIALIST, RELATIVE["companion"]["email"], PROFESSIONAL["email"])]

        def scenario(browser: Browser) -> tuple[list[str], dict, dict]:
            with contextlib.ExitStack() as stack:
                pages = people(browser, stack, len(links))
                # They wait for the cart; the relative and the professional are let in by the specialist.
                ids = [join(pages[0], links[0])] + [join(page, link, typed, admitted_by=pages[0]) for page, link, typed
                                                     in zip(pages[1:], links[1:], ("Paul LEFEBVRE", "Julie MOREAU"))]
                assert len(set(ids)) == len(ids), ids
                enter_call(cart, made["id"])
                endpoints = {me: ["cart", *(peer for peer in ids if peer != me)] for me in ids}
                for me, page in zip(ids, pages):
                    for peer in endpoints[me]:
                        wait_for_picture(page, peer)
                # Every page watches, then listens to, every other endpoint, all at the same time.
                for me, page in zip(ids, pages):
                    start_probes(page, "video", FRAMES_ADVANCE, [[f"video[data-peer={peer}]", MOVING, 15] for peer in endpoints[me]])
                seen = {me: {peer: rounds[0] for peer, rounds in zip(endpoints[me], probe_results(page, "video"))}
                        for me, page in zip(ids, pages)}
                for me, page in zip(ids, pages):
                    start_probes(page, "sound", AUDIO_PROBE, [f"video[data-peer={peer}]" for peer in endpoints[me]],
                                 rounds=5, enough=HEARD)
                heard = {me: {peer: loudest(rounds) for peer, rounds in zip(endpoints[me], probe_results(page, "sound"))}
                         for me, page in zip(ids, pages)}
                pages[0].screenshot(path=str(artifacts / "call-three-participants.png"))
                for page in pages:
                    assert_page_clean(page)
                return ids, seen, heard

        ids, seen, heard = in_media_browser(scenario)

        for me in ids:
            for peer, video in seen[me].items():
                assert isinstance(video, dict) and video["width"] > 0, f"{me} does not see {peer}: {video}"
                assert video["frames"] >= MOVING, f"{me} sees {peer} frozen: {video}"
            for peer, sound in heard[me].items():
                assert isinstance(sound, (int, float)) and sound > HEARD, f"{me} does not hear {peer}: {sound}"
            assert (seen[me]["cart"]["width"], seen[me]["cart"]["height"]) == (1280, 720), seen[me]


@pytest.mark.parametrize("coturn", ["a-secret-the-cart-keeps"], indirect=True)
def test_with_coturns_shared_secret_each_participant_gets_a_credential_of_its_own(coturn: Turn, tmp_path: Path) -> None:
    """The secret stays on the cart: each participant's page gets a username that says until when
    and for whom, and the call is relayed with it."""
    call = {"ice_servers": [{"urls": [coturn.url("udp")], "secret": "a-secret-the-cart-keeps"}], "ice_transport_policy": "relay"}
    with cart_with_mail(tmp_path, call=call) as cart, agent_log_on_failure(cart):
        made = cart.dossier(email=SPECIALIST)
        link = cart.emailed_link(SPECIALIST)

        def scenario(browser: Browser) -> tuple[list, dict, str]:
            context, page = new_page(browser)
            try:
                me = join(page, link)
                servers = page.evaluate("() => window.telecartRoom.iceServers")
                enter_call(cart, made["id"])
                wait_for_picture(page, "cart")
                path = page.evaluate(SELECTED_PAIR, "cart")
                return servers, path, me
            finally:
                context.close()

        servers, path, me = in_media_browser(scenario)
        [server] = servers
        expires, _, name = server["username"].partition(":")
        assert name == me and int(expires) > time.time() + 3600, server  # until an hour after the room closes
        assert "secret" not in server and server["credential"] != "a-secret-the-cart-keeps"
        assert path and path["state"] == "connected" and path["local"] == "relay" and path["remote"] == "relay", path
