"""A room that outgrows the mesh goes through a real Janus (issue 16, docs/janus.md).

The cart is configured with Debian's Janus on loopback (`[call] sfu_url`, `sfu_from = 4`). The
specialist, a relative and a professional join from Chromium and the cart enters: the mesh, as
today. A second professional joins: the room moves to Janus, and every participant sees and hears
the cart and each of the others through it, the cart publishing its camera once.

The browsers are driven from a thread of their own (tests/call/harness.py `in_media_browser`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from agent.call.janus import JanusClient, janus_room_id
from tests.api.helpers import logged_in
from tests.browser.kiosk import shot, sign_in
from tests.call.harness import (
    AUDIO_PROBE,
    FRAMES_ADVANCE,
    HEARD,
    MOVING,
    PROFESSIONAL,
    RELATIVE,
    SPECIALIST,
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
    start_probes,
    wait_for_picture,
)
from tests.call.janus_server import JanusServer, janus_server
from tests.call.test_call_controls import frames_of_tile, heard, kiosk_enters, member_id
from tests.call.test_call_controls import join as join_page
from tests.notify.servers import run_async

pytestmark = pytest.mark.browser

CONNECTED = "(peer) => { const pc = window.telecartRoom.pcs.get(peer); return Boolean(pc && pc.connectionState === 'connected'); }"
SECOND_PROFESSIONAL = {"role": "professional", "name": "GARNIER", "first_name": "Luc", "email": "luc.garnier@cabinet.example"}


@pytest.fixture
def janus(tmp_path: Path) -> Iterator[JanusServer]:
    with janus_server(tmp_path) as server:
        yield server


async def _janus_room(url: str, room: str) -> list[dict]:
    """Who Janus has in the consultation's VideoRoom (listing needs no PIN, only the number)."""
    async with await JanusClient.connect(url) as client:
        handle = await client.attach()
        listed = await handle.message({"request": "listparticipants", "room": janus_room_id(room)})
        return list(listed.get("participants", []))


def test_a_fourth_participant_moves_the_room_to_janus_where_everyone_sees_and_hears_everyone(
        janus: JanusServer, tmp_path: Path, artifacts: Path) -> None:
    call = {"sfu_url": janus.url, "sfu_from": 4, "max_remote_participants": 5, "sfu_admin_key": janus.admin_key}
    with cart_with_mail(tmp_path, call=call) as cart, agent_log_on_failure(cart):
        made = cart.dossier(email=SPECIALIST, accompaniment=RELATIVE)
        for invitation in (PROFESSIONAL, SECOND_PROFESSIONAL):
            invited = cart.nurse.post(cart.url(f"/dossiers/{made['id']}/invitations"), json=invitation)
            assert invited.status_code == 201, invited.text
        addresses = (SPECIALIST, RELATIVE["companion"]["email"], PROFESSIONAL["email"], SECOND_PROFESSIONAL["email"])
        links = [cart.emailed_link(address) for address in addresses]
        typed = ("Paul LEFEBVRE", "Julie MOREAU", "Luc GARNIER")

        def scenario(browser: Browser) -> dict:
            with contextlib.ExitStack() as stack:
                pages = people(browser, stack, len(links))
                # Three on the mesh with the cart, as every room starts.
                ids = [join(pages[0], links[0])] + [join(page, link, name, admitted_by=pages[0])
                                                     for page, link, name in zip(pages[1:3], links[1:3], typed)]
                enter_call(cart, made["id"])
                wait_for_picture(pages[1], "cart")
                mesh_before = pages[1].evaluate("() => window.telecartRoom.sfu")
                # The fourth: the room moves to Janus.
                ids.append(join(pages[3], links[3], typed[2], admitted_by=pages[0]))
                for page in pages:
                    page.wait_for_function("() => window.telecartRoom.sfu === true", timeout=15_000)
                endpoints = {me: ["cart", *(peer for peer in ids if peer != me)] for me in ids}
                for me, page in zip(ids, pages):
                    for peer in endpoints[me]:  # the paths through Janus, not the last frame the mesh left
                        page.wait_for_function(CONNECTED, arg=peer, timeout=30_000)
                        wait_for_picture(page, peer, timeout=30_000)
                for me, page in zip(ids, pages):
                    start_probes(page, "video", FRAMES_ADVANCE, [[f"video[data-peer={peer}]", MOVING, 15] for peer in endpoints[me]])
                seen = {me: {peer: rounds[0] for peer, rounds in zip(endpoints[me], probe_results(page, "video"))}
                        for me, page in zip(ids, pages)}
                for page in pages:
                    start_probes(page, "sound", AUDIO_PROBE, ["video[data-peer=cart]"], rounds=5, enough=HEARD)
                heard = {me: loudest(probe_results(page, "sound")[0]) for me, page in zip(ids, pages)}
                paths = {me: page.evaluate("() => [...window.telecartRoom.pcs.keys()].sort()") for me, page in zip(ids, pages)}
                in_janus = run_async(_janus_room(janus.url, cart.nurse.get(cart.url("/call")).json()["room"]))
                pages[3].screenshot(path=str(artifacts / "call-through-janus.png"))
                for page in pages:
                    assert_page_clean(page)
                return {"ids": ids, "mesh_before": mesh_before, "seen": seen, "heard": heard, "paths": paths, "in_janus": in_janus}

        outcome = in_media_browser(scenario)

    ids = outcome["ids"]
    assert outcome["mesh_before"] is False, "three participants already went through Janus"
    for me in ids:
        for peer, video in outcome["seen"][me].items():
            assert isinstance(video, dict) and video["width"] > 0, f"{me} does not see {peer}: {video}"
            assert video["frames"] >= MOVING, f"{me} sees {peer} frozen: {video}"
        assert (outcome["seen"][me]["cart"]["width"], outcome["seen"][me]["cart"]["height"]) == (1280, 720)
        assert isinstance(outcome["heard"][me], (int, float)) and outcome["heard"][me] > HEARD, f"{me} does not hear the cart"
        # One path out (to Janus) and one in per other endpoint: no mesh left.
        assert outcome["paths"][me] == sorted(["sfu", *(p for p in ["cart", *ids] if p != me)]), outcome["paths"][me]
    publishers = sorted(p["display"] for p in outcome["in_janus"] if p.get("publisher"))
    assert publishers == sorted(["chariot", *ids]), outcome["in_janus"]  # the cart published once, each participant once


def moving(specialist: Page, kiosk: Page, doctor: str) -> dict:
    """Frames presented by the specialist's picture of the cart and the kiosk's of the specialist
    (up to 15 s for MOVING frames: a loaded machine is slow, a frozen picture never gets there)."""
    for page, peer in ((specialist, "cart"), (kiosk, doctor)):
        start_probes(page, "video", FRAMES_ADVANCE, [[f"video[data-peer={peer}]", MOVING, 15]])
    return {"specialist_sees": probe_results(specialist, "video")[0][0], "kiosk_sees": probe_results(kiosk, "video")[0][0]}


def test_through_janus_from_the_first_participant_the_kiosk_sees_them_and_a_lost_janus_gives_the_mesh_back(
        janus: JanusServer, tmp_path: Path, artifacts: Path) -> None:
    """`sfu_from = 1`: every room through Janus, the kiosk's screen receiving the specialist from it.
    Janus stops mid-call: the room tells everyone, and back on the direct mesh (one participant
    fits) the picture and the sound come back by themselves."""
    call = {"sfu_url": janus.url, "sfu_from": 1, "sfu_admin_key": janus.admin_key}
    with cart_with_mail(tmp_path, call=call) as cart, agent_log_on_failure(cart):
        dossier = cart.dossier(SPECIALIST)
        technician = logged_in(cart.agent, cart.agent.add_account(Role.TECHNICIAN))

        def scenario(browser: Browser) -> dict:
            kiosk = kiosk_enters(cart, browser, dossier)
            specialist = join_page(browser, cart.emailed_link(SPECIALIST))
            doctor = member_id(specialist)
            specialist.wait_for_function("() => window.telecartRoom.sfu === true", timeout=15_000)
            for page, peer in ((specialist, "cart"), (kiosk, doctor)):  # the paths through Janus, not the mesh's last frame
                page.wait_for_function(CONNECTED, arg=peer, timeout=20_000)
            through_janus = {**moving(specialist, kiosk, doctor), "specialist_paths": specialist.evaluate("() => [...window.telecartRoom.pcs.keys()].sort()")}
            heard(kiosk, doctor)
            heard(specialist, "cart")
            # « Connexion faible » through Janus: the cart's sound alone, the picture held back; then back.
            specialist.get_by_role("button", name="Connexion faible").click()
            time.sleep(1)  # what was on its way
            through_janus["poor_link_frames"] = frames_of_tile(specialist, "cart", 3)
            heard(specialist, "cart")
            specialist.get_by_role("button", name="Revenir à la vidéo").click()
            through_janus["back_to_video"] = moving(specialist, kiosk, doctor)["specialist_sees"]
            through_janus["technician"] = technician.get(cart.url("/call/stats"), timeout=10).json()
            _, desk = new_page(browser, has_touch=True)  # the technician's page says the cart sends once, to Janus
            sign_in(desk, cart.agent, cart.agent.add_account(Role.TECHNICIAN), timeout=20_000)
            sending = desk.locator(".janus-sending")
            expect(sending).to_contain_text("le chariot envoie une seule fois", timeout=15_000)
            expect(sending).to_contain_text("1280 × 720", timeout=15_000)
            expect(desk.locator("tr[data-participant]")).to_contain_text("Dr Claire PETIT")
            expect(desk.locator("tr[data-participant] td").last).to_have_text("par le serveur régional")
            shot(desk, artifacts, "call-technician-janus.png")

            janus.process.terminate()  # the region's Janus restarts, or its link is cut
            expect(specialist.get_by_text("La liaison avec le serveur de visioconférence est coupée")).to_be_visible(timeout=15_000)
            specialist.wait_for_function("() => window.telecartRoom.sfu === false", timeout=30_000)
            for page, peer in ((specialist, "cart"), (kiosk, doctor)):  # the new paths, not the last frame of the old
                page.wait_for_function(CONNECTED, arg=peer, timeout=20_000)
            back_on_mesh = {**moving(specialist, kiosk, doctor), "specialist_paths": specialist.evaluate("() => [...window.telecartRoom.pcs.keys()].sort()")}
            heard(kiosk, doctor)
            heard(specialist, "cart")
            for page in (kiosk, specialist):
                assert_page_clean(page)
            return {"through_janus": through_janus, "back_on_mesh": back_on_mesh}

        try:
            outcome = in_media_browser(scenario)
        finally:
            cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))

    for when, seen in outcome.items():
        assert seen["specialist_sees"]["frames"] >= MOVING and seen["specialist_sees"]["width"] == 1280, (when, seen)
        assert seen["kiosk_sees"]["frames"] >= MOVING, (when, seen)
    assert outcome["through_janus"]["specialist_paths"] == ["cart", "sfu"]
    assert outcome["through_janus"]["poor_link_frames"] <= 3, outcome["through_janus"]  # held back (a frame in flight at most)
    assert outcome["through_janus"]["back_to_video"]["frames"] >= MOVING, outcome["through_janus"]
    sending = outcome["through_janus"]["technician"]["janus"]  # the technician sees the one publication
    assert sending["state"] == "connected" and sending["frames_sent"] > 0 and sending["width"] == 1280, sending
    assert outcome["back_on_mesh"]["specialist_paths"] == ["cart", "screen"]
