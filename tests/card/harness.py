"""The CPS card stack of the tests: a real pcscd with vsmartcard's virtual reader, virtual cards
that answer to reset like a CPS3 (virtual_card.py), and SoftHSM2 tokens holding each card's key
and certificate (token.py).

The harness ties a virtual card to its token the way a card ties its chip to its Cryptolib slot:
when a holder's card goes in, their token is the only one SoftHSM shows; the agent's module
process, started for that card, sees it alone. ../shared/notes/pcsc-here.md and
card-psc-here.md say what was measured."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smartcard import scard

from tests.card.token import MODULE, Authority, Holder, SoftToken
from tests.card.virtual_card import BANK_CARD_ATR, CPS3_ATR, VPCD_PORT, VirtualCard
from tests.live import LiveAgent, running_agent

CLAIRE = Holder("PETIT", "Claire", "899700123456", "Médecin")
ANTOINE = Holder("ROUX", "Antoine", "899700654321", "Médecin")
NADIA = Holder("MERCIER", "Nadia", "899700777888", "Infirmier")
PIN = "1234"
SWAP_SECONDS = 0.6


def pcscd_answers() -> bool:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return hresult == scard.SCARD_S_SUCCESS and any(r.startswith("Virtual PCD") for r in readers)
    finally:
        scard.SCardReleaseContext(context)


@dataclass
class Pcscd:
    """The machine's pcscd: ours when none ran (root starts it), else the one already there."""

    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Pcscd:
        if pcscd_answers():
            return self
        if os.geteuid() != 0:
            raise RuntimeError("pcscd is not running and only root can start it (the CI runs as root)")
        self.proc = subprocess.Popen(["pcscd", "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not pcscd_answers() and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        if pcscd_answers():
            return self
        self.stop()  # no pcscd left behind without its reader
        # tests/netns.py keeps the reader's port out of the ephemeral range; outside that namespace
        # a client connection may hold it.
        raise RuntimeError(f"pcscd did not start with its virtual reader (is TCP port {VPCD_PORT} taken?)")

    @property
    def owned(self) -> bool:
        return self.proc is not None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        # A killed pcscd leaves its files; a new one cleans them once the old PID is gone.
        while self.proc is not None and Path(f"/proc/{self.proc.pid}").exists():
            time.sleep(0.02)


@dataclass
class CardDeck:
    """Holders' cards: a SoftHSM token each, and the virtual card that stands for the chip."""

    root: Path
    authority: Authority = field(default_factory=Authority.make)
    tokens: SoftToken | None = None
    _dirs: dict[str, Path] = field(default_factory=dict)  # holder idnat -> their token's directory
    inserted: VirtualCard | None = None
    _pulled_at: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = SoftToken.make(self.root / "softhsm")
        (self.root / "parked").mkdir()
        self.anchors = self.root / "autorites.pem"
        self.anchors.write_bytes(self.authority.pem())

    @property
    def env(self) -> dict[str, str]:
        assert self.tokens is not None
        return self.tokens.env

    def agent_card_config(self, **overrides: object) -> dict[str, object]:
        return {"pkcs11_module": MODULE, "trust_anchors": str(self.anchors), **overrides}

    def make(self, holder: Holder, authority: Authority | None = None, **issue: int) -> None:
        assert self.tokens is not None
        live = self.root / "softhsm" / "tokens"
        before = set(live.iterdir())
        self.tokens.card(f"CPS {holder.idnat}", holder, authority or self.authority, pin=PIN, **issue)
        (made,) = set(live.iterdir()) - before
        self._dirs[holder.idnat] = made

    def insert(self, holder: Holder | None = None, atr: bytes = CPS3_ATR) -> VirtualCard:
        """The holder's card in the reader (their token alone in SoftHSM); no holder: a chip only."""
        self.pull()
        # pcscd looks at the reader every ~0.4 s: a card swapped faster than a hand could would
        # look like the same card still in.
        time.sleep(max(0.0, self._pulled_at + SWAP_SECONDS - time.monotonic()))
        live, parked = self.root / "softhsm" / "tokens", self.root / "parked"
        for idnat, where in self._dirs.items():
            want = live if holder is not None and idnat == holder.idnat else parked
            if where.parent != want:
                self._dirs[idnat] = Path(shutil.move(str(where), want / where.name))
        self.inserted = VirtualCard(atr).insert()
        return self.inserted

    def insert_bank_card(self) -> VirtualCard:
        return self.insert(None, BANK_CARD_ATR)

    def pull(self) -> None:
        if self.inserted is not None:
            self.inserted.pull()
            self.inserted = None
            self._pulled_at = time.monotonic()


LOCK = "/tmp/telecart-card-tests.lock"


@contextlib.contextmanager
def machine_reader() -> Iterator[Pcscd]:
    """The machine's one pcscd and virtual reader, held for as long as the block runs: the other
    test worker, if it reaches card tests too, waits (xdist's loadgroup would keep them on one
    worker, but pytest 9.2 ignores the node id it rewrites to do so); pcscd started if none runs."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        daemon = Pcscd().start()
        try:
            yield daemon
        finally:
            daemon.stop()


@contextlib.contextmanager
def card_deck(root: Path, *holders: Holder) -> Iterator[CardDeck]:
    """A deck with a card made for each of `holders`; no card left in the reader afterwards."""
    deck = CardDeck(root)
    for holder in holders:
        deck.make(holder)
    try:
        yield deck
    finally:
        deck.pull()


@contextlib.contextmanager
def card_agent(root: Path, deck: CardDeck, **card: object) -> Iterator[LiveAgent]:
    """An agent whose card module is SoftHSM2 with the deck's tokens, trusting the deck's authority."""
    with running_agent(root, env=deck.env, card=deck.agent_card_config(**card)) as agent:
        yield agent
