"""Through a strict hospital firewall: the specialist's network drops every UDP packet and lets
out nothing but TCP to the cart's HTTPS port and to the TURN server's port 443. The call still
connects, through TURN over TLS (docs/coturn.md, « Through strict hospital firewalls »).

- The specialist's Chromium runs in a ward (tests/ward.py) behind that firewall, trusting the test
  authority that signed coturn's and the cart's certificates (an NSS database in its HOME): the
  emailed link is the cart's HTTPS address, coturn's `turns:` port is 443.
- coturn listens on one of the run's addresses as docs/coturn.md sets it up: `turns:` on 443,
  `turn:` over UDP, a shared secret (`use-auth-secret`) from which the cart makes each
  participant a credential of its own. The cart (the agent, outside the ward) trusts the test
  authority through SSL_CERT_FILE: aioice's TLS uses Python's default context.
- The cart's `ice_servers` list `turns:` first and `turn:` over UDP second, as docs/coturn.md
  advises: the cart takes the first, the specialist's Chromium tries both, and the firewall drops
  the UDP attempts (its counters say so).

The negative control: the same firewall with `turn:` over UDP only: no path, no picture. What the
page says then: nothing yet (the cart's tile stays empty without a word, neither side ever gives
up); test-artifacts/turn-tls.json keeps the messages the page showed.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from tests.api.helpers import logged_in
from tests.call import harness
from tests.call.harness import (
    AUDIO_PROBE,
    HEARD,
    SELECTED_PAIR,
    SPECIALIST,
    VIDEO_PROBE,
    Cart,
    agent_log_on_failure,
    assert_page_clean,
    enter_call,
    in_media_browser,
    join,
    loudest,
    new_page,
    probe_results,
    start_probes,
    wait_for_picture,
)
from tests.call.turn import Tls, Turn, assert_relayed_call, chromium_home, make_authority, port_in_turn, running_coturn
from tests.live import free_port, running_agent
from tests.loopback import Inbox, smtp_server
from tests.netns import ADDRESSES
from tests.ward import Ward, ward

pytestmark = pytest.mark.browser

SECRET = "a-secret-the-cart-keeps"
NO_PATH_SECONDS = 6  # through TLS the first frame came within 4 s, on a 2-core machine at a load of 20

# What the page told the specialist: every error toast and the « connexion perdue » banner, as they
# appear (a toast is gone after a few seconds).
WATCH_MESSAGES = """() => {
  window.__messages = [];
  const seen = (text) => { if (text && !window.__messages.includes(text)) window.__messages.push(text); };
  new MutationObserver(() => {
    document.querySelectorAll("#toasts .toast.error").forEach((t) => seen(t.textContent));
    document.querySelectorAll(".connection:not([hidden]), .no-path:not([hidden]), .notice-box").forEach((t) => seen(t.textContent));
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
}"""


@contextlib.contextmanager
def cart_reached_from(host: str, root: Path, tls: Tls, call: dict) -> Iterator[Cart]:
    """A cart whose links point at its HTTPS listener on `host` (the test authority's certificate),
    trusting that authority for TURN over TLS."""
    inbox, port, https_port = Inbox(), free_port(), free_port()
    with smtp_server(inbox) as smtp_port, running_agent(
        root, port=port, https_port=https_port, env={"SSL_CERT_FILE": str(tls.ca)},
        server={"public_url": f"https://{host}:{https_port}", "public_host": host,
                "tls_certificate": str(tls.certificate), "tls_key": str(tls.key)},
        dossiers={"establishment": "EHPAD Les Tilleuls"},
        mail={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none"}, call=call,
    ) as agent:
        account = agent.add_account(Role.NURSE)
        yield Cart(agent, inbox, logged_in(agent, account), account)


@pytest.fixture
def hospital(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Ward, Tls, Turn]]:
    """The ward, the test authority, coturn on one of the run's addresses (the one whose port 443
    no other worker holds); the call tests' Chromium (tests/call/harness.py's in_media_browser)
    started inside the ward, trusting the authority."""
    why_not = Ward.unavailable()
    if why_not:
        pytest.skip(why_not)
    failed_before = request.session.testsfailed
    run_addresses = [address.split("/")[0] for address in ADDRESSES.values()]
    with ward(tmp_path / "ward") as behind, port_in_turn(run_addresses, 443) as host:
        tls = make_authority(tmp_path / "tls", host)
        home = chromium_home(tmp_path / "chromium-home", tls.ca)
        monkeypatch.setattr(harness, "CHROMIUM", behind.chromium(env={"HOME": str(home)}))
        with running_coturn(tmp_path / "coturn", SECRET, host=host, tls=tls, tls_port=443, plain_tcp=False,
                            failed=lambda: request.session.testsfailed > failed_before) as turn:
            yield behind, tls, turn


def behind_the_firewall(behind: Ward, turn: Turn, cart: Cart) -> None:
    """All UDP dropped; out of the ward, TCP to coturn's 443 and to the cart's HTTPS port only."""
    behind.block_udp(allow_tcp=[(turn.host, 443), (turn.host, cart.agent.https_port)])


def allocated(turn: Turn, name: str) -> list[str]:
    """coturn's log lines of the sessions opened for `name`'s credential (EXPIRY:name)."""
    return [line for line in turn.log().splitlines() if re.search(rf"new, realm=<test>, username=<\d+:{name}>", line)]


def save(artifacts: Path, key: str, figures: dict) -> None:
    path = artifacts / "turn-tls.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    saved[key] = figures
    path.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def test_behind_a_firewall_that_drops_udp_the_call_goes_through_turn_over_tls_on_443(
        hospital: tuple[Ward, Tls, Turn], tmp_path: Path, artifacts: Path) -> None:
    behind, tls, turn = hospital
    call = {"ice_servers": [{"urls": [turn.tls_url(), turn.url("udp")], "secret": SECRET}], "ice_transport_policy": "relay"}
    with cart_reached_from(turn.host, tmp_path, tls, call) as cart, agent_log_on_failure(cart):
        behind_the_firewall(behind, turn, cart)
        made = cart.dossier(email=SPECIALIST)
        link = cart.emailed_link(SPECIALIST)
        assert link.startswith(f"https://{turn.host}:{cart.agent.https_port}/"), link

        def scenario(browser: Browser) -> tuple[dict, float, dict, float]:
            context, page = new_page(browser)
            try:
                join(page, link)
                entered = time.monotonic()
                enter_call(cart, made["id"])
                wait_for_picture(page, "cart")
                first_frame = time.monotonic() - entered
                start_probes(page, "video", VIDEO_PROBE, [["video[data-peer=cart]", 2]])
                start_probes(page, "sound", AUDIO_PROBE, ["video[data-peer=cart]"], rounds=5, enough=HEARD)
                (video,), = probe_results(page, "video")
                sound = loudest(probe_results(page, "sound")[0])
                path = page.evaluate(SELECTED_PAIR, "cart")
                assert_page_clean(page)
                return video, sound, path, first_frame
            finally:
                context.close()

        video, sound, path, first_frame = in_media_browser(scenario)
        dropped = behind.dropped()
        save(artifacts, "through_tls", {"first_frame_seconds": round(first_frame, 2), "fps": video and video.get("fps"),
                                        "udp_packets_dropped": dropped["udp"], "path": path})

        # What the specialist sees and hears, through Chromium's relayed address, reached over TLS
        # to port 443, to the cart's relayed address, both on our coturn.
        assert_relayed_call(video, sound, path, HEARD)
        assert path["relayProtocol"] == "tls" and path["localUrl"] == turn.tls_url(), path
        for port in (path["localPort"], path["remotePort"]):
            assert port in turn.relay_ports, f"{path} not relayed by our coturn ({turn.relay_ports})"
        assert path["bytesReceived"] > 20_000, path
        # Each side with its own credential over TLS: the cart (trusting the test authority through
        # SSL_CERT_FILE) and the participant (the secret never left the cart).
        for name in ("cart", "p1"):
            sessions = allocated(turn, name)
            assert any("cipher=TLS" in line for line in sessions), f"{name}: {sessions}\n{turn.log()[-3000:]}"
        # And the firewall did its part: Chromium's `turn:` attempts over UDP were dropped.
        assert dropped["udp"] > 0, dropped


def test_behind_the_same_firewall_turn_over_udp_alone_gives_no_path(hospital: tuple[Ward, Tls, Turn], tmp_path: Path,
                                                                     artifacts: Path) -> None:
    """The control: `turn:` over UDP only. The cart, outside the ward, gets its relayed address;
    the specialist's Chromium gets none, its UDP dropped by the firewall: no path, no picture."""
    behind, tls, turn = hospital
    call = {"ice_servers": [{"urls": [turn.url("udp")], "secret": SECRET}], "ice_transport_policy": "relay"}
    with cart_reached_from(turn.host, tmp_path, tls, call) as cart, agent_log_on_failure(cart):
        behind_the_firewall(behind, turn, cart)
        made = cart.dossier(email=SPECIALIST)
        link = cart.emailed_link(SPECIALIST)

        def scenario(browser: Browser) -> tuple[list[dict], list[str]]:
            context, page = new_page(browser)
            try:
                join(page, link)
                page.evaluate(WATCH_MESSAGES)
                enter_call(cart, made["id"])
                seen = [watch(page) for _ in range(NO_PATH_SECONDS)]
                # The page says so, and what to do, rather than a black picture forever.
                expect(page.locator(".no-path")).to_be_visible(timeout=25_000)
                page.screenshot(path=str(artifacts / "call-no-path.png"))
                return seen, page.evaluate("() => window.__messages")
            finally:
                context.close()

        seen, messages = in_media_browser(scenario)
        dropped = behind.dropped()
        save(artifacts, "udp_only_control", {"seconds_watched": NO_PATH_SECONDS, "last_state": seen[-1],
                                             "udp_packets_dropped": dropped["udp"], "messages_shown": messages})

        assert all(s["pc"] != "connected" and s["width"] == 0 for s in seen), seen
        assert seen[-1]["pc"] is not None and seen[-1]["gathered"] == [], seen[-1]  # the cart's offer came; nothing to answer with
        assert allocated(turn, "cart"), turn.log()[-3000:]  # coturn's UDP works, from outside the ward
        assert not allocated(turn, "p1"), turn.log()[-3000:]  # the participant never reached it
        assert dropped["udp"] > 0, dropped
        assert any("bloque sans doute la visioconférence" in m for m in messages), messages


def watch(page: Page) -> dict:
    """One second later: the state of the cart's connection, the candidates Chromium gathered and
    the width of the cart's picture (0: none)."""
    time.sleep(1)
    return page.evaluate("""async () => {
      const pc = window.telecartRoom.pcs.get("cart");
      const video = document.querySelector("video[data-peer=cart]");
      const gathered = [];
      if (pc) (await pc.getStats()).forEach((s) => { if (s.type === "local-candidate") gathered.push(s.candidateType); });
      return { pc: pc ? pc.connectionState : null, gathered, width: video ? video.videoWidth : 0 };
    }""")
