"""A room's media through Janus (docs/janus.md) once it holds `[call] sfu_from` participants.

In the mesh every browser is connected to the cart and to every other browser. Through Janus
every endpoint has one path to send (the cart's aiortc publication; each participant's page
offers to "sfu") and one path per other endpoint to receive, which Janus offers. The cart
negotiates all of them on the endpoints' behalf over the room's own socket, with the mesh's
`signal` messages: a page answers an offer "from" a participant or "from" the cart as it always
did. Janus's address, the room's PIN and secret stay on the cart: a page removed from the room
has nothing to reconnect with, and the pages need no route to Janus's WebSocket, only to its
media ports.

Owners (who publishes): "cart" and the participants' member ids. Viewers (who receives): the
participants and the kiosk's "screen", which receives every participant but not the cart.

The cart publishes a large and a small picture; each viewer gets the one their link carries
(agent/call/sfu_quality.py), from the reports their page sends of the cart's picture.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agent.call.janus import JanusError, JanusRoom
from agent.call.sfu_quality import PictureChoice

log = logging.getLogger("agent.call")

CART, SCREEN = "cart", "screen"  # as agent/call/room.py names them

Send = Callable[[str, dict[str, Any]], Awaitable[None]]
Viewers = Callable[[], Iterable[str]]
UP_WITHIN = 30.0  # seconds for a publication's path to come up (ICE, DTLS) before its viewers are offered it


class SfuPath:
    def __init__(self, janus: JanusRoom, send: Send, viewers: Viewers) -> None:
        self.janus = janus
        self._send = send  # to a viewer's socket: a member id, or SCREEN
        self._viewers = viewers  # who is there to watch, when a publication comes up
        self._offering: set[asyncio.Task[None]] = set()
        self._poor: set[str] = set()  # viewers who chose « connexion faible »: sound only from Janus
        self._pictures: dict[str, PictureChoice] = {}  # per viewer: the cart's large or small picture
        self._cart_still = False

    @property
    def lost(self) -> asyncio.Event:
        """Set when the WebSocket to Janus is gone: every path through it with it."""
        assert self.janus.client is not None
        return self.janus.client.closed

    async def open(self) -> None:
        await self.janus.open()

    def feed(self, owner: str) -> int | None:
        return self.janus.feed if owner == CART else self.janus.feed_of(owner)

    # --- the cart -------------------------------------------------------------------------------

    async def cart_in(self, still: bool) -> None:
        """The cart's camera and microphone published once; every viewer offered them when up."""
        await self.janus.publish()
        self.set_cart_still(still)
        self._offer_when_up(CART, self.janus.wait_up)

    async def cart_out(self) -> None:
        await self.janus.unpublish()
        await self.janus.forget(CART)
        await self.janus.forget(SCREEN)

    def set_cart_still(self, still: bool) -> None:
        """« Connexion faible » on the cart: its pictures become a still every few seconds."""
        self._cart_still = still
        if self.janus.video is not None:
            self.janus.video.set_still(still)
        self._small_needed()

    def _small_needed(self) -> None:
        """The small picture moves only while someone gets it (else a still every few seconds, for nobody)."""
        if self.janus.small_video is not None:
            watched = any(choice.small for choice in self._pictures.values())
            self.janus.small_video.set_still(self._cart_still or not watched)

    def picture_of(self, viewer: str) -> str | None:
        """Which of the cart's pictures `viewer` gets ("large", "small"), None before their first."""
        choice = self._pictures.get(viewer)
        return None if choice is None else "small" if choice.small else "large"

    async def report(self, viewer: str, lost: int, received: int, now: float | None = None) -> None:
        """What `viewer`'s page received of the cart's picture (cumulative counts, every 2 s): they
        are moved to the small picture, or back to the large one, when their link says so."""
        choice = self._pictures.get(viewer)
        at = time.monotonic() if now is None else now
        if choice is None or self.janus.feed is None or not choice.report(lost, received, at):
            return
        log.info("Janus: %s gets the %s pictures", viewer, "small" if choice.small else "large")
        self._small_needed()
        # A new subscription, not Janus's `switch`: on a lossy link a switched picture froze again
        # and again (docs/janus.md), a fresh one only in its first seconds.
        await self._offer(viewer, CART)
        # The same link carries the others' pictures: their low layer, or back to their high one
        for owner in self.janus.watched_by(viewer):
            if owner != CART:
                try:
                    await self.janus.small_layer(viewer, owner, choice.small)
                except JanusError as exc:
                    log.warning("Janus: %s's picture layer to %s not changed: %s", owner, viewer, exc)

    # --- the participants -----------------------------------------------------------------------

    async def publish(self, owner: str, offer: dict[str, str]) -> dict[str, str]:
        """A participant's page offers its camera and microphone: Janus's answer, for their page;
        the others are offered the publication once it is up."""
        answer = await self.janus.publish_for(owner, offer)
        self._offer_when_up(owner, lambda: self.janus.wait_published(owner, UP_WITHIN))
        return answer

    def _offer_when_up(self, owner: str, up: Callable[[], Awaitable[None]]) -> None:
        """Janus refuses a subscription to a publication whose path is not up yet (428): the
        viewers are offered it when Janus says it is, without holding the room meanwhile."""
        async def offer() -> None:
            try:
                await up()
            except JanusError as exc:
                log.warning("Janus: %s's publication did not come up: %s", owner, exc)
                return
            for viewer in self._viewers():
                await self._offer(viewer, owner)

        task = asyncio.get_running_loop().create_task(offer())
        self._offering.add(task)
        task.add_done_callback(self._offering.discard)

    async def viewer_in(self, viewer: str, owners: Iterable[str]) -> None:
        """A viewer arrives (a participant, the kiosk's screen): offered every feed published."""
        for owner in owners:
            await self._offer(viewer, owner)

    async def answer(self, viewer: str, owner: str, answer: dict[str, str]) -> None:
        await self.janus.start(viewer, owner, answer)
        if viewer in self._poor:
            await self.janus.send_video(viewer, owner, False)
        if owner != CART and self.picture_of(viewer) == "small":
            await self.janus.small_layer(viewer, owner, True)

    async def poor_link(self, viewer: str, poor: bool, owners: Iterable[str]) -> None:
        """« Connexion faible » chosen by a participant: through Janus, whose publications have one
        picture each, they get the sound alone (the mesh sends them stills instead)."""
        if poor == (viewer in self._poor):
            return
        (self._poor.add if poor else self._poor.discard)(viewer)
        for owner in owners:
            if _watches(viewer, owner):
                try:
                    await self.janus.send_video(viewer, owner, not poor)
                except JanusError as exc:
                    log.warning("Janus: %s's picture to %s not %s: %s", owner, viewer, "held" if poor else "resumed", exc)

    async def resubscribe(self, viewer: str, owner: str) -> None:
        """The viewer's path to `owner` broke: a new one (a new Janus offer)."""
        await self._offer(viewer, owner)

    async def gone(self, who: str) -> None:
        if self._pictures.pop(who, None) is not None:
            self._small_needed()
        await self.janus.forget(who)

    async def close(self) -> None:
        for task in list(self._offering):
            task.cancel()
        await self.janus.close()

    async def _offer(self, viewer: str, owner: str) -> None:
        """`viewer` offered `owner`'s feed through Janus, when it is published and theirs to watch."""
        feed = self.feed(owner)
        if feed is None or not _watches(viewer, owner):
            return
        mids = None
        if owner == CART:  # the sound, and the picture their link carried last
            choice = self._pictures.setdefault(viewer, PictureChoice())
            choice.new_path()  # its page's counts start again
            mids = [self.janus.mids["audio"], self.janus.mids["small" if choice.small else "video"]]
        try:
            offer = await self.janus.subscribe(viewer, owner, feed, mids)
        except JanusError as exc:  # one viewer's path must not stop the others'
            log.warning("Janus: %s cannot receive %s: %s", viewer, owner, exc)
            return
        await self._send(viewer, {"type": "signal", "from": owner, "description": offer})


def _watches(viewer: str, owner: str) -> bool:
    """Nobody receives their own feed; the kiosk does not receive the cart it is part of."""
    return viewer != owner and not (viewer == SCREEN and owner == CART)
