"""A camera pulled out during a call: the cart falls back to the other camera, says so to everyone
in the room, and takes the camera back when it is plugged in again.

The exam camera here is a real MJPEG stream through a named pipe, read by the same PyAV code as a
USB camera; stopping the writer is the cable pulled out (the reader sees the stream end, as it sees
a V4L2 device vanish)."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.call.harness import Cart, cart_with_mail
from tests.call.test_room_rules import receive, socket_url
from tests.loopback import eventually
from tests.notify.servers import run_async


class UsbCamera:
    """Writes 640x480 JPEG frames at 15 fps into a pipe, reopening it when the reader goes away."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        out = io.BytesIO()
        Image.new("RGB", (640, 480), (222, 150, 130)).save(out, format="JPEG", quality=80)
        self.frame = out.getvalue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def plug(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)  # fails until a reader is there
            except OSError:
                stop.wait(0.1)
                continue
            os.set_blocking(fd, True)
            try:
                while not stop.is_set():
                    os.write(fd, self.frame)
                    stop.wait(1 / 15)
            except BrokenPipeError:
                pass  # the reader closed (a retry probing the camera): open again
            finally:
                os.close(fd)


@pytest.fixture
def usb_camera(tmp_path: Path) -> Iterator[UsbCamera]:
    fifo = tmp_path / "exam-camera.mjpeg"
    os.mkfifo(fifo)
    camera = UsbCamera(fifo)
    camera.plug()
    try:
        yield camera
    finally:
        camera.unplug()


async def notice(ws: aiohttp.ClientWebSocketResponse, words: str, timeout: float) -> str:
    """The next camera notice containing `words` (a switch also sends the camera state, noticeless)."""
    async with asyncio.timeout(timeout):
        while True:
            message = await receive(ws, "camera", timeout)
            if message["notice"] and words in message["notice"]:
                return message["notice"]


def cameras(cart: Cart) -> dict:
    return cart.nurse.get(cart.url("/cameras")).json()


def test_an_unplugged_exam_camera_falls_back_to_the_room_camera_and_comes_back(tmp_path: Path, usb_camera: UsbCamera) -> None:
    with cart_with_mail(tmp_path / "cart", media={"exam_camera": str(usb_camera.fifo)}) as cart:
        dossier = cart.dossier("examen@chu.example")

        async def scenario() -> list[str]:
            async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(dossier["invitations"][0]["link"])) as ws:
                await receive(ws, "welcome")
                assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
                switched = cart.nurse.put(cart.url("/cameras/active"), json={"camera": "exam"})
                assert switched.status_code == 200 and switched.json()["active"] == "exam"
                # The exam camera's own frames reach the call: a snapshot has its size.
                photo = cart.nurse.post(cart.url("/call/snapshot"))
                assert photo.status_code == 201 and (photo.json()["width"], photo.json()["height"]) == (640, 480), photo.text

                usb_camera.unplug()
                lost = await notice(ws, "débranchée", timeout=15)
                state = cameras(cart)
                assert state["active"] == "room" and not next(c for c in state["cameras"] if c["id"] == "exam")["available"]
                refused = cart.nurse.put(cart.url("/cameras/active"), json={"camera": "exam"})
                assert refused.status_code == 409 and "pas branchée" in refused.json()["message"]
                photo = cart.nurse.post(cart.url("/call/snapshot"))  # the call goes on, on the room camera
                assert (photo.json()["width"], photo.json()["height"]) == (1280, 720)

                usb_camera.plug()
                back = await notice(ws, "rebranchée", timeout=20)
                return [lost, back]

        lost, back = run_async(scenario())
        assert lost == "Caméra d'examen débranchée : caméra de la salle à la place."
        assert back == "Caméra d'examen rebranchée."
        state = eventually(lambda: cameras(cart))
        assert next(c for c in state["cameras"] if c["id"] == "exam")["available"] is True
        assert state["active"] == "room"  # the nurse chooses when to go back to it
