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

import pytest
from playwright.sync_api import Browser

from tests.call.harness import (
    AUDIO_PROBE,
    FRAMES_ADVANCE,
    HEARD,
    MOVING,
    PROFESSIONAL,
    RELATIVE,
    SELECTED_PAIR,
    SPECIALIST,
    VIDEO_PROBE,
    agent_log_on_failure,
    assert_page_clean,
    cart_with_mail,
    enter_call,
    in_media_browser,
    join,
    loudest,
    new_page,
    people,
    probe_results,
    relayed_in_metrics,
    start_probes,
    wait_for_picture,
)
from tests.call.turn import Turn, assert_relayed_call, running_coturn
from tests.loopback import eventually

pytestmark = pytest.mark.browser


# --- coturn on loopback (tests/call/turn.py) -----------------------------------------------------

@pytest.fixture
def coturn(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Turn]:
    """coturn on 127.0.0.1, ready when it answers STUN; stopped at the end, its log printed when
    the test failed."""
    failed_before = request.session.testsfailed
    with running_coturn(tmp_path / "coturn", getattr(request, "param", None),
                        failed=lambda: request.session.testsfailed > failed_before) as turn:
        yield turn


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
