"""The room's rules, from the outside: who gets in, what a bad message does, when the room closes,
the cart answering by itself. Participants here are plain WebSocket clients (aiohttp) speaking the
room's protocol, so each rule is checked without a browser."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import requests
from PIL import Image

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.call.harness import Cart, cart_with_mail
from tests.notify.servers import run_async


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("rules")) as cart:
        yield cart


def socket_url(link: str) -> str:
    return link.replace("http://", "ws://") + "/ws"


async def receive(ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 10.0) -> dict:
    """The next message of type `kind` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket ended ({message.type}) while waiting for {kind}")
            data = json.loads(message.data)
            if data["type"] == kind:
                return data


def move_room(cart: Cart, room_id: str, opens: datetime, closes: datetime) -> None:
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE rooms SET opens_at = ?, closes_at = ? WHERE id = ?",
                   [opens.isoformat().replace("+00:00", "Z"), closes.isoformat().replace("+00:00", "Z"), room_id])
    db.close()


def room_of(link: str) -> str:
    return link.rsplit("/", 2)[-2]


def test_a_wrong_revoked_or_out_of_window_link_never_reaches_the_room(cart: Cart) -> None:
    dossier = cart.dossier("refus@chu.example")
    link = dossier["invitations"][0]["link"]
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    async def attempt(url: str) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(socket_url(url)):
                    return 101, {}
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status, {}

    assert run_async(attempt(forged))[0] == 403
    other = cart.dossier("autre@chu.example")["invitations"][0]["link"]
    assert run_async(attempt(link.rsplit("/", 2)[0] + "/" + room_of(other) + "/" + link.rsplit("/", 1)[1]))[0] == 403
    reply = requests.get(socket_url(forged).replace("ws://", "http://"), headers={"Connection": "Upgrade", "Upgrade": "websocket",
                         "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert reply.status_code == 403 and "pas reconnu" in reply.json()["message"]

    later = datetime.now(UTC) + timedelta(hours=2)
    move_room(cart, room_of(link), later, later + timedelta(hours=1))
    assert run_async(attempt(link))[0] == 403  # not yet open
    earlier = datetime.now(UTC) - timedelta(hours=3)
    move_room(cart, room_of(link), earlier, earlier + timedelta(hours=1))
    assert run_async(attempt(link))[0] == 403  # expired: the room closed with its window
    move_room(cart, room_of(link), datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1))
    assert run_async(attempt(link))[0] == 101
    invitation = dossier["invitations"][0]["id"]
    assert cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/invitations/{invitation}")).status_code == 200
    assert run_async(attempt(link))[0] == 403  # revoked


def test_malformed_messages_get_an_error_and_the_room_goes_on(cart: Cart) -> None:
    dossier = cart.dossier("bruit@chu.example", accompaniment={"kind": "relative", "companion": {
        "name": "MARTIN", "first_name": "Léa", "remote": True, "email": "lea@famille.example"}})
    specialist, relative = (i["link"] for i in sorted(dossier["invitations"], key=lambda i: i["role"] != "specialist"))

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(specialist)) as doctor, \
                session.ws_connect(socket_url(relative) + "?nom=L%C3%A9a%20MARTIN") as lea:
            welcome = await receive(doctor, "welcome")
            assert (welcome["you"]["name"], welcome["you"]["role"]) == ("Dr Claire PETIT", "specialist")
            waiting = (await receive(doctor, "lobby"))["arrived"]  # tests/security/test_lobby.py: the lobby's rules
            await doctor.send_str(json.dumps({"type": "admit", "to": waiting["id"]}))
            lea_id = (await receive(lea, "welcome"))["you"]["id"]
            for bad in ("not json", "[]", json.dumps({"type": "dance"}), json.dumps({"type": "chat", "text": ""}),
                        json.dumps({"type": "signal", "to": "../../etc", "description": {"type": "offer", "sdp": "x" * 20}}),
                        json.dumps({"type": "chat", "text": "x" * 3000}), json.dumps({"type": "signal", "to": "cart",
                        "description": {"type": "answer", "sdp": "v=0 not an answer anyone asked for"}})):
                await doctor.send_str(bad)
                error = await receive(doctor, "error")
                assert error["text"] and "Traceback" not in error["text"]
            await doctor.send_bytes(b"\x00\x01")
            assert "binaire" in (await receive(doctor, "error"))["text"]
            # Still in the room: the chat reaches the relative.
            await doctor.send_str(json.dumps({"type": "chat", "text": "Bonjour Madame Martin"}))
            chat = await receive(lea, "chat")
            assert chat["text"] == "Bonjour Madame Martin" and chat["name"].startswith("Dr ")
            # A relative may neither remove anyone nor ask for a photo.
            await lea.send_str(json.dumps({"type": "remove", "to": welcome["you"]["id"]}))
            assert "Seuls" in (await receive(lea, "error"))["text"]
            await lea.send_str(json.dumps({"type": "snapshot"}))
            assert "professionnel" in (await receive(lea, "error"))["text"]
            # The specialist may remove the relative, who cannot come back.
            await doctor.send_str(json.dumps({"type": "remove", "to": lea_id}))
            assert "retiré" in (await receive(lea, "removed"))["text"]
            assert (await receive(doctor, "left"))["id"] == lea_id
            async with session.ws_connect(socket_url(relative) + "?nom=Lea") as again:  # the link is genuine: told, then shut
                assert "retiré" in (await receive(again, "removed"))["text"]
                assert (await again.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)

    run_async(scenario())


def test_the_cart_enters_only_within_the_window_and_one_room_at_a_time(cart: Cart) -> None:
    first, second = cart.dossier("un@chu.example"), cart.dossier("deux@chu.example")
    later = datetime.now(UTC) + timedelta(hours=3)
    move_room(cart, first["room"]["id"], later, later + timedelta(hours=1))
    refused = cart.nurse.post(cart.url(f"/dossiers/{first['id']}/call"))
    assert refused.status_code == 409 and "pas encore ouverte" in refused.json()["message"]
    move_room(cart, first["room"]["id"], datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(hours=1))
    assert cart.nurse.post(cart.url(f"/dossiers/{first['id']}/call")).status_code == 200
    busy = cart.nurse.post(cart.url(f"/dossiers/{second['id']}/call"))
    assert busy.status_code == 409 and busy.json()["error"] == "cart_busy"
    assert cart.nurse.get(cart.url("/call")).json()["dossier_id"] == first["id"]
    assert cart.nurse.delete(cart.url(f"/dossiers/{first['id']}/call")).json()["in_call"] is False
    # Leaving is not ending: the consultation is still running until « Fin de téléconsultation ».
    assert cart.nurse.get(cart.url(f"/dossiers/{first['id']}")).json()["state"] == "in_progress"
    assert cart.nurse.post(cart.url(f"/dossiers/{first['id']}/call")).status_code == 200  # and the cart comes back
    cart.nurse.delete(cart.url(f"/dossiers/{first['id']}/call"))
    assert cart.nurse.post(cart.url(f"/dossiers/{first['id']}/end"), json={"rating": 4}).status_code == 200
    assert cart.nurse.get(cart.url(f"/dossiers/{first['id']}")).json()["state"] == "awaiting_report"


def test_the_room_closes_with_its_window_and_the_cart_leaves(cart: Cart) -> None:
    dossier = cart.dossier("fin@chu.example")
    link = dossier["invitations"][0]["link"]
    move_room(cart, room_of(link), datetime.now(UTC) - timedelta(minutes=30), datetime.now(UTC) + timedelta(seconds=3))

    async def scenario() -> dict:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(link)) as ws:
            await receive(ws, "welcome")
            assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
            await receive(ws, "signal")  # the cart's offer: it is in the call
            return await receive(ws, "closed", timeout=15)

    closed = run_async(scenario())
    assert "créneau" in closed["text"]
    assert cart.nurse.get(cart.url("/call")).json()["in_call"] is False
    assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] == "awaiting_report"


def test_what_the_participant_receives_shows_in_the_technicians_view_and_metrics(cart: Cart) -> None:
    dossier = cart.dossier("stats@chu.example")
    link = dossier["invitations"][0]["link"]
    technician = cart.agent.login(cart.agent.add_account(Role.TECHNICIAN))
    sent = {"type": "stats", "fps": 29.5, "width": 1280, "height": 720, "bitrate_kbps": 1480.0, "packets_lost": 3,
            "rtt_ms": 1.5, "codec": "VP8", "candidate": "host"}

    async def scenario() -> tuple[dict, str]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(link)) as ws:
            await receive(ws, "welcome")
            assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
            await ws.send_str(json.dumps(sent))
            await ws.send_str(json.dumps({"type": "ping"}))
            await receive(ws, "pong")
            stats = technician.get(cart.url("/call/stats")).json()
            metrics = requests.get(f"{cart.agent.url}/metrics").text
            cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))
            return stats, metrics

    stats, metrics = run_async(scenario())
    [row] = stats["participants"]
    assert row["role"] == "specialist" and row["received"]["fps"] == 29.5 and row["received"]["codec"] == "VP8"
    assert row["sent"]["state"] in ("new", "connecting", "closed")  # no browser answered the cart's offer here
    assert 'telecart_call_video_fps{participant="p' in metrics and 'role="specialist"} 29.5' in metrics
    assert 'telecart_call_codec_info{candidate="host",codec="VP8"' in metrics
    assert cart.nurse.get(cart.url("/call/stats")).status_code == 403  # a nurse is not the technician


def test_the_preview_streams_small_jpegs_of_the_active_camera(cart: Cart) -> None:
    # Plain requests: the nurse's session reads every body whole (tests/api/helpers.py), and this one never ends.
    with requests.get(cart.url("/cameras/preview"), cookies=cart.nurse.cookies, stream=True, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        data = b""
        for chunk in reply.iter_content(8192):
            data += chunk
            if data.count(b"\xff\xd9") >= 2:
                break
    first = data[data.index(b"\xff\xd8"): data.index(b"\xff\xd9") + 2]
    image = Image.open(io.BytesIO(first))
    assert image.format == "JPEG" and image.size == (640, 360)
    assert requests.get(cart.url("/cameras/preview"), timeout=5).status_code == 401  # not without a session


def test_with_auto_answer_the_cart_joins_when_the_specialist_arrives(tmp_path: Path) -> None:
    with cart_with_mail(tmp_path, call={"auto_answer": True}) as cart:
        dossier = cart.dossier("auto@chu.example")

        async def scenario() -> dict:
            async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(dossier["invitations"][0]["link"])) as ws:
                await receive(ws, "welcome")
                return await receive(ws, "signal")

        offer = run_async(scenario())
        assert offer["from"] == "cart" and offer["description"]["type"] == "offer"
        assert "VP8" in offer["description"]["sdp"]
        assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] in ("in_progress", "awaiting_report")
        trail = cart.agent.login(cart.agent.add_account(Role.ADMIN)).get(cart.url("/audit")).json()
        assert any(item["actor"] == "chariot" and item["action"] == "call.enter" for item in trail["items"]), trail


def test_the_join_page_is_served_over_https_with_the_carts_own_certificate(tmp_path: Path) -> None:
    from tests.live import LiveAgent, free_port
    data = tmp_path / "data"
    data.mkdir()
    agent = LiveAgent(data, free_port(), https_port=free_port()).start()
    try:
        # The certificate the cart made for itself is valid for its address: trusted, it verifies.
        reply = requests.get(f"https://127.0.0.1:{agent.https_port}/healthz", verify=str(data / "tls" / "cart.crt"), timeout=10)
        assert reply.status_code == 200
        assert oct((data / "tls" / "cart.key").stat().st_mode & 0o777) == "0o600"
    finally:
        agent.stop()


def test_a_participant_sends_a_document_into_the_dossier_during_the_call(cart: Cart) -> None:
    from tests.documents import samples

    dossier = cart.dossier("document@chu.example")
    link = dossier["invitations"][0]["link"]

    async def scenario() -> tuple[dict, int, dict]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(link)) as ws:
            await receive(ws, "welcome")
            form = aiohttp.FormData()
            form.add_field("file", samples.pdf(("Ordonnance", "Amoxicilline 1 g")), filename="ordonnance.pdf", content_type="application/pdf")
            async with session.post(f"{link}/documents", data=form) as reply:
                sent = await reply.json()
                assert reply.status == 201, sent
            told = await receive(ws, "notice")
            disguised = aiohttp.FormData()
            disguised.add_field("file", b"MZ\x90\x00 not a pdf at all", filename="ordonnance.pdf", content_type="application/pdf")
            async with session.post(f"{link}/documents", data=disguised) as refused:
                return told, refused.status, await refused.json()

    told, status, refusal = run_async(scenario())
    assert told["text"] == "Dr Claire PETIT a ajouté le document « ordonnance.pdf » au dossier."
    assert status == 422 and refusal["error"] == "document_refused"
    [document] = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"]
    assert (document["name"], document["mime"], document["added_by"]) == ("ordonnance.pdf", "application/pdf", "Dr Claire PETIT")
    forged = link[:-2] + ("xx" if not link.endswith("xx") else "yy")
    assert requests.post(f"{forged}/documents", files={"file": ("a.pdf", b"%PDF-1.4")}).status_code == 403


def test_the_cart_enters_a_visio_sms_room_without_a_dossier(cart: Cart) -> None:
    started = cart.nurse.post(cart.url("/visio"), json={"email": "visio@famille.example"})
    assert started.status_code == 201, started.text
    room = started.json()["room"]["id"]
    link = cart.emailed_link("visio@famille.example")

    async def scenario() -> tuple[dict, dict]:
        entered = cart.nurse.post(cart.url(f"/visio/{room}/call"))
        assert entered.status_code == 200 and entered.json()["room"] == room, entered.text
        screen_url = cart.agent.url.replace("http://", "ws://") + "/ws/call"
        nurse_cookies = {c.name: c.value for c in cart.nurse.cookies}
        async with aiohttp.ClientSession(cookies=nurse_cookies) as nurse, nurse.ws_connect(screen_url, headers={"Origin": cart.agent.url}) as screen, \
                aiohttp.ClientSession() as session, session.ws_connect(socket_url(link) + "?nom=Jeanne") as ws:
            await receive(ws, "lobby_wait")  # a guest waits until the nurse lets her in
            await screen.send_str(json.dumps({"type": "admit", "to": (await receive(screen, "lobby"))["arrived"]["id"]}))
            welcome = await receive(ws, "welcome")
            assert welcome["dossier"] is False
            offer = await receive(ws, "signal")
            await ws.send_str(json.dumps({"type": "snapshot"}))  # a guest may not; and no dossier to keep it
            refused = await receive(ws, "error")
            assert cart.nurse.delete(cart.url(f"/visio/{room}/call")).status_code == 200
            return offer, refused

    offer, refused = run_async(scenario())
    assert offer["from"] == "cart"
    assert refused["text"]
    assert cart.nurse.post(cart.url("/visio/unknown-room/call")).status_code == 404


@pytest.mark.parametrize(("call", "said"), [
    ({}, "La salle est complète : trois participants à distance au plus."),
    ({"sfu_url": "ws://127.0.0.1:9/janus", "sfu_from": 4, "max_remote_participants": 6},  # nothing listens on port 9
     "le serveur de visioconférence de la région ne répond pas"),
], ids=["mesh-only", "janus-not-answering"])
def test_a_fourth_participant_is_told_the_room_is_full_when_only_the_mesh_can_hold_them(tmp_path: Path, call: dict, said: str) -> None:
    with cart_with_mail(tmp_path, call={"lobby": False, **call}) as cart:
        dossier = cart.dossier("pleine@chu.example", accompaniment={"kind": "relative", "companion": {
            "name": "MARTIN", "first_name": "Léa", "remote": True, "email": "lea@famille.example"}})
        for who in ("julie.moreau@cabinet.example", "luc.garnier@cabinet.example"):
            invited = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/invitations"),
                                      json={"role": "professional", "name": "MOREAU", "first_name": "Julie", "email": who})
            assert invited.status_code == 201, invited.text
        links = [cart.emailed_link(who) for who in ("pleine@chu.example", "lea@famille.example",
                                                    "julie.moreau@cabinet.example", "luc.garnier@cabinet.example")]

        async def scenario() -> tuple[list[dict], dict]:
            async with aiohttp.ClientSession() as session:
                inside = [await session.ws_connect(socket_url(link)) for link in links[:3]]
                welcomes = [await receive(ws, "welcome") for ws in inside]
                async with session.ws_connect(socket_url(links[3])) as fourth:
                    refused = await receive(fourth, "closed")
                for ws in inside:
                    await ws.close()
                return welcomes, refused

        welcomes, refused = run_async(scenario())
    assert all(welcome["sfu"] is False for welcome in welcomes)
    assert said in refused["text"]
