"""The lobby: a relative's or a guest's link, forwarded or not, is not a live camera on a resident.
Whoever is not the consulted specialist waits with the name they typed, receives nothing of the
room, and adds nothing to the dossier until the nurse at the cart or the specialist lets them in;
turned away, they are told and their link no longer enters. Participants here are plain WebSocket
clients speaking the room's protocol (the pages are driven in tests/call/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from agent.access.roles import Role
from tests.api.helpers import audit_items
from tests.call.harness import Cart, cart_with_mail, leave_any_call
from tests.call.test_room_rules import receive, socket_url
from tests.notify.servers import run_async

pytestmark = pytest.mark.security

RELATIVE = {"kind": "relative", "companion": {"name": "LEFEBVRE", "first_name": "Paul", "remote": True,
                                              "email": "paul@famille.example"}}


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("lobby"), call={"auto_answer": True}) as cart:
        yield cart


@pytest.fixture(autouse=True)
def no_call_left(cart: Cart) -> Iterator[None]:
    """The cart answered the previous test's specialist by itself: out of that room first."""
    yield
    leave_any_call(cart)


def links(dossier: dict) -> tuple[str, str]:
    """(the specialist's link, the relative's link)."""
    by_role = {i["role"]: i["link"] for i in dossier["invitations"]}
    return by_role["specialist"], by_role["relative"]


def named(link: str, name: str) -> str:
    return f"{socket_url(link)}?nom={quote(name)}"


async def closed(ws: aiohttp.ClientWebSocketResponse) -> bool:
    return (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


def test_a_relative_waits_unseen_until_the_specialist_lets_them_in(cart: Cart) -> None:
    dossier = cart.dossier("accueil@chu.example", accompaniment=RELATIVE)
    specialist, relative = links(dossier)

    async def scenario() -> tuple[dict, dict, dict, int, dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(specialist)) as doctor:
            assert (await receive(doctor, "welcome"))["lobby"] == []  # the specialist never waits
            async with session.ws_connect(named(relative, "  Marie\x00  DURAND \n")) as marie:
                waiting = await receive(marie, "lobby_wait")
                heard = await receive(doctor, "lobby")
                # Waiting: no chat, no document into the resident's dossier.
                await marie.send_str(json.dumps({"type": "chat", "text": "Bonjour ?"}))
                told = await receive(marie, "error")
                form = aiohttp.FormData()
                form.add_field("file", b"%PDF-1.4 x", filename="lettre.pdf", content_type="application/pdf")
                async with session.post(f"{relative}/documents", data=form) as upload:
                    upload_status = upload.status
                await doctor.send_str(json.dumps({"type": "admit", "to": heard["arrived"]["id"]}))
                welcome = await receive(marie, "welcome")
                emptied = await receive(doctor, "lobby")  # told before she joins
                joined = await receive(doctor, "joined")
                while joined["member"]["id"] == "cart":  # the cart answered the specialist by itself meanwhile
                    joined = await receive(doctor, "joined")
                return waiting, heard, {"told": told, "welcome": welcome, "joined": joined}, upload_status, emptied

    waiting, heard, after, upload_status, emptied = run_async(scenario())
    assert "salle d'attente" in waiting["text"] and waiting["name"] == "Marie DURAND"
    assert heard["arrived"]["name"] == "Marie DURAND"  # as she typed it, control characters gone
    assert heard["arrived"]["invited_as"] == "Paul LEFEBVRE" and heard["arrived"]["role"] == "relative"
    assert [w["name"] for w in heard["waiting"]] == ["Marie DURAND"]
    assert "salle d'attente" in after["told"]["text"]
    assert upload_status == 403
    assert after["welcome"]["you"]["name"] == "Marie DURAND" and after["welcome"]["lobby"] is None  # a relative moderates nothing
    assert after["joined"]["member"]["name"] == "Marie DURAND"
    assert emptied["waiting"] == []
    admin = cart.agent.login(cart.agent.add_account(Role.ADMIN))
    trail = audit_items(cart.agent, admin, patient_id=dossier["patient"]["id"])
    admitted = [r for r in trail if r["action"] == "call.admit"]
    assert admitted and "Marie DURAND (lien de Paul LEFEBVRE, proche) admis(e) par Dr Claire PETIT" in admitted[0]["detail"]
    assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"] == []


def test_someone_turned_away_is_told_and_the_link_no_longer_enters(cart: Cart) -> None:
    dossier = cart.dossier("refus.lobby@chu.example", accompaniment=RELATIVE)
    specialist, relative = links(dossier)

    async def scenario() -> tuple[dict, dict, bool, dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(specialist)) as doctor:
            await receive(doctor, "welcome")
            async with session.ws_connect(named(relative, "Un inconnu")) as stranger:
                await receive(stranger, "lobby_wait")
                arrived = (await receive(doctor, "lobby"))["arrived"]
                await doctor.send_str(json.dumps({"type": "refuse", "to": arrived["id"]}))
                refused = await receive(stranger, "refused")
                shut = await closed(stranger)
            async with session.ws_connect(named(relative, "Paul LEFEBVRE")) as again:
                return arrived, refused, shut, await receive(again, "removed")

    arrived, refused, shut, again = run_async(scenario())
    assert arrived["name"] == "Un inconnu"
    assert "ne vous a pas fait entrer" in refused["text"] and shut
    assert "ne vous a pas fait entrer" in again["text"]
    admin = cart.agent.login(cart.agent.add_account(Role.ADMIN))
    trail = audit_items(cart.agent, admin, patient_id=dossier["patient"]["id"])
    assert any(r["action"] == "call.refuse" and "Un inconnu (lien de Paul LEFEBVRE, proche)" in r["detail"] for r in trail)


def test_no_name_no_lobby_and_a_waiting_relative_does_not_wake_the_cart(cart: Cart) -> None:
    """With auto-answer on, the cart answers the specialist, not a link waiting in the lobby."""
    dossier = cart.dossier("sans.nom@chu.example", accompaniment=RELATIVE)
    _, relative = links(dossier)

    async def scenario() -> tuple[dict, dict]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(socket_url(relative)) as nameless:
                refused = await receive(nameless, "closed")
            async with session.ws_connect(named(relative, "Paul LEFEBVRE")) as paul:
                await receive(paul, "lobby_wait")
                return refused, cart.nurse.get(cart.url("/call")).json()

    refused, call = run_async(scenario())
    assert "Indiquez votre nom" in refused["text"]
    assert call["in_call"] is False


def test_the_carts_screen_left_alone_cannot_let_anyone_in(cart: Cart) -> None:
    """A cart that answered by itself shows the call on its screen to whoever stands there: that
    screen (no one logged in) hears nothing of the lobby and cannot admit; a nurse's screen can."""
    dossier = cart.dossier("ecran@chu.example", accompaniment=RELATIVE)
    specialist, relative = links(dossier)
    screen_url = cart.agent.url.replace("http://", "ws://") + "/ws/call"

    async def scenario() -> tuple[dict, dict, dict, dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(specialist)) as doctor:
            await receive(doctor, "welcome")
            await receive(doctor, "signal")  # the cart answered by itself
            async with session.ws_connect(screen_url, headers={"Origin": cart.agent.url}) as alone, \
                    session.ws_connect(named(relative, "Paul LEFEBVRE")) as paul:
                unattended = await receive(alone, "welcome")
                waiting = (await receive(doctor, "lobby"))["arrived"]
                await alone.send_str(json.dumps({"type": "admit", "to": waiting["id"]}))
                refused = await receive(alone, "error")
                # The nurse logs in at the cart: her screen sees who waits and lets him in.
                cookies = {c.name: c.value for c in cart.nurse.cookies}
                async with aiohttp.ClientSession(cookies=cookies) as nurse_session, nurse_session.ws_connect(
                        screen_url, headers={"Origin": cart.agent.url}) as nurse:
                    attended = await receive(nurse, "welcome")
                    await nurse.send_str(json.dumps({"type": "admit", "to": waiting["id"]}))
                    return unattended, refused, attended, await receive(paul, "welcome")

    unattended, refused, attended, welcome = run_async(scenario())
    assert unattended["lobby"] is None
    assert "Connectez-vous" in refused["text"]
    assert [w["name"] for w in attended["lobby"]] == ["Paul LEFEBVRE"]
    assert welcome["you"]["role"] == "relative"


def test_with_the_lobby_off_every_genuine_link_enters_at_once(tmp_path: Path) -> None:
    with cart_with_mail(tmp_path, call={"lobby": False}) as cart:
        _, relative = links(cart.dossier("ouvert@chu.example", accompaniment=RELATIVE))

        async def scenario() -> dict:
            async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(relative)) as paul:
                return await receive(paul, "welcome")

        assert run_async(scenario())["you"]["name"] == "Paul LEFEBVRE"
