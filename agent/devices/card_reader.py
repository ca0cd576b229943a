"""The card reader, as the agent sees it: which readers there are, which card is in which, whose
CPS card it is, and what the kiosk should say about it, in French.

The PC/SC watch (drivers/smartcard/readers.py) reports from its thread; this turns each report
into a `CardStatus`, reads a new CPS card's certificate at once (so the PIN screen can name its
holder), and tells its listeners: the kiosk's event stream (no polling) and the agent, which locks
the sessions a card opened when that card is pulled out. The card's PKCS#11 module runs in a
process of its own for each card inserted (drivers/smartcard/token_process.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import first_use
from agent.config import CardConfig
from agent.devices.listeners import Listeners
from drivers.smartcard.atr import CardKind, kind_of, parse_atrs
from drivers.smartcard.readers import Reader, ReaderWatch, Snapshot
from drivers.smartcard.token_process import TokenProcess
from drivers.smartcard.token_types import CardGone, CardKey, PinState, TokenError

if TYPE_CHECKING:  # cryptography's x509 comes with the first card read, not the agent's start
    from drivers.smartcard.certificate import Practitioner

log = logging.getLogger(__name__)

MESSAGES = {
    "off": "",
    "no_service": "Lecteur de carte indisponible (service PC/SC arrêté).",
    "no_reader": "Aucun lecteur de carte branché.",
    "empty": "Insérez votre carte CPS.",
    "reading": "Lecture de la carte…",
    "other": "Cette carte n'est pas une carte CPS : insérez votre carte de professionnel de santé.",
    "mute": "La carte ne répond pas : retirez-la et insérez-la puce vers le haut.",
    "two_cards": "Deux cartes sont insérées : retirez celle qui n'est pas la vôtre.",
}


@dataclass(frozen=True)
class CardHolder:
    """A CPS card read: whose it is and which key signs for it."""

    practitioner: Practitioner
    key: CardKey


@dataclass(frozen=True)
class CardStatus:
    state: str  # off | no_service | no_reader | empty | reading | cps | other | mute | two_cards | unreadable
    message: str
    reader: str | None = None
    readers: int = 0
    holder: Practitioner | None = None
    version: int = 0  # grows with each change: the kiosk keeps the newest
    problem: str | None = None  # why an unreadable CPS cannot log in (the message says it to the kiosk)

    def public(self) -> dict[str, Any]:
        """What the kiosk is told: no certificate, no fingerprint."""
        holder = None
        if self.holder is not None:
            holder = {"display_name": self.holder.display_name, "title": self.holder.title, "rpps": self.holder.rpps}
        return {"state": self.state, "message": self.message, "reader": self.reader, "readers": self.readers,
                "holder": holder, "version": self.version}


@dataclass
class _Inserted:
    reader: str
    atr: bytes
    token: TokenProcess
    holder: CardHolder | None = None
    problem: str | None = None  # why this card cannot log in (module, authority, certificate)


class CardReader:
    def __init__(self, config: CardConfig) -> None:
        self.config = config
        self.extra_atrs = parse_atrs(config.extra_atrs)
        self._watch: ReaderWatch | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._snapshot = Snapshot(service=False)
        self._cards: dict[str, _Inserted] = {}  # reader -> the CPS card in it
        self._version = 0
        self.status = CardStatus("off", MESSAGES["off"])
        self._listeners: Listeners[CardStatus] = Listeners(16)
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_card_removed: Callable[[str], Awaitable[None]] | None = None  # a card's fingerprint

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.config.enabled:
            return
        self._loop = asyncio.get_running_loop()
        self.status = self._status()
        self._watch = ReaderWatch(lambda snapshot: self._loop.call_soon_threadsafe(self._changed, snapshot))  # type: ignore[union-attr]
        self._watch.start()

    async def stop(self) -> None:
        if self._watch is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._watch.stop)
        for card in list(self._cards.values()):
            await card.token.close()

    # --- what the kiosk hears ----------------------------------------------------------------

    def listen(self) -> asyncio.Queue[CardStatus]:
        return self._listeners.listen()

    def forget(self, queue: asyncio.Queue[CardStatus]) -> None:
        self._listeners.forget(queue)

    def _publish(self) -> None:
        self._version += 1
        self.status = replace(self._status(), version=self._version)
        self._listeners.publish(self.status)  # a stalled listener gets the newest state, not a backlog

    # --- the readers' reports --------------------------------------------------------------------

    def _changed(self, snapshot: Snapshot) -> None:
        present = {r.name: r for r in snapshot.readers if r.card_present and not r.mute}
        for reader in list(self._cards):
            card = self._cards[reader]
            now_there = present.get(reader)
            if now_there is None or now_there.atr != card.atr:
                del self._cards[reader]
                self._background(self._removed(card))
        for name, reader in present.items():
            if name not in self._cards and kind_of(reader.atr, self.extra_atrs) is CardKind.CPS:
                self._cards[name] = _Inserted(name, reader.atr, TokenProcess(self.config.pkcs11_module, self.config.token_label, name))
                self._background(self._read(self._cards[name]))
        self._snapshot = snapshot
        self._publish()

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """A task kept until it ends (the loop holds only weak references to tasks)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _removed(self, card: _Inserted) -> None:
        """Its module's process ended, its sessions locked, then said again: a kiosk that asks on
        hearing it finds them locked."""
        await card.token.close()
        if card.holder is None or self.on_card_removed is None:
            return
        try:
            await self.on_card_removed(card.holder.practitioner.fingerprint)
        except Exception:
            log.exception("locking the sessions of a pulled card failed")
        self._publish()

    async def _read(self, card: _Inserted) -> None:
        """The new card's certificate, its holder, its chain checked (no PIN needed)."""
        await first_use.load("drivers.smartcard.certificate")  # x509, perhaps during a call
        from drivers.smartcard.certificate import CertificateRefused, check_chain, practitioner_of

        try:
            if not self.config.pkcs11_module:
                raise TokenError("le module PKCS#11 de la carte CPS n'est pas configuré ([card] pkcs11_module)")
            key = await card.token.key()
            practitioner = practitioner_of(key.certificate)
            roots, intermediates = self._anchors()
            check_chain(key.certificate, roots, intermediates, dt.datetime.now(dt.UTC))
            card.holder = CardHolder(practitioner, key)
        except (TokenError, CertificateRefused) as error:
            card.problem = str(error)
        except Exception:  # a module that misbehaves: said, never a crash
            log.exception("reading the CPS card failed")
            card.problem = "la carte n'a pas pu être lue"
        if self._cards.get(card.reader) is card:
            self._publish()

    def _anchors(self) -> tuple[list, list]:
        if not self.config.trust_anchors:
            return [], []
        from drivers.smartcard.certificate import CertificateRefused, load_anchors

        try:
            return load_anchors(Path(self.config.trust_anchors).read_bytes())
        except (OSError, ValueError) as error:
            raise CertificateRefused(f"les autorités de certification du chariot sont illisibles ({self.config.trust_anchors})") from error

    def _status(self) -> CardStatus:
        s = self._snapshot
        if not self.config.enabled:
            return CardStatus("off", MESSAGES["off"])
        if not s.service:
            return CardStatus("no_service", MESSAGES["no_service"])
        if not s.readers:
            return CardStatus("no_reader", MESSAGES["no_reader"])
        inserted: list[Reader] = [r for r in s.readers if r.card_present]
        common = {"readers": len(s.readers)}
        if not inserted:
            return CardStatus("empty", MESSAGES["empty"], **common)
        if len(inserted) > 1:
            return CardStatus("two_cards", MESSAGES["two_cards"], **common)
        reader = inserted[0]
        if reader.mute:
            return CardStatus("mute", MESSAGES["mute"], reader.name, **common)
        card = self._cards.get(reader.name)
        if card is None:
            return CardStatus("other", MESSAGES["other"], reader.name, **common)
        if card.problem:
            return CardStatus("unreadable", f"Connexion par carte impossible : {card.problem}.", reader.name, problem=card.problem, **common)
        if card.holder is None:
            return CardStatus("reading", MESSAGES["reading"], reader.name, **common)
        who = card.holder.practitioner
        title = f" ({who.title})" if who.title else ""
        return CardStatus("cps", f"Carte CPS de {who.display_name}{title}", reader.name, holder=who, **common)

    # --- what a login needs ---------------------------------------------------------------------

    def _current(self) -> _Inserted | None:
        return self._cards.get(self.status.reader) if self.status.state == "cps" and self.status.reader else None

    def holder(self) -> CardHolder | None:
        """The one CPS card read and ready, if the status says so."""
        card = self._current()
        return card.holder if card else None

    async def pin_state(self) -> PinState:
        card = self._current()
        try:
            return await card.token.pin_state() if card else PinState()
        except TokenError:
            return PinState()

    async def sign(self, holder: CardHolder, pin: str, challenge: bytes) -> bytes:
        card = self._current()
        if card is None or card.holder is not holder:
            raise CardGone("la carte a été retirée")
        return await card.token.sign(holder.key.key_id, pin, challenge)
