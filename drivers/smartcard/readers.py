"""The PC/SC readers and their cards, watched through pcscd.

pyscard's CardMonitor dies for good when pcscd restarts and is a process-wide singleton
(../shared/notes/card-psc-here.md §1), so this is our own SCardGetStatusChange loop in a thread:
it waits for any change of any reader (and of the reader list, through pcsc-lite's PnP
pseudo-reader), reports a whole snapshot each time, and re-establishes its context when pcscd
goes away or comes back. pcscd polls readers every ~0.4 s: a card is seen within half a second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from smartcard import scard

log = logging.getLogger(__name__)

PNP = "\\\\?PnP?\\Notification"
WAIT_MS = 1000  # the loop looks at its stop flag this often
RETRY_SECONDS = 2.0  # pcscd absent: try again this often
# pcscd gone, restarting, or its socket broken: a new context is needed.
_SERVICE_LOST = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_F_COMM_ERROR,
                 scard.SCARD_E_INVALID_HANDLE, scard.SCARD_E_UNKNOWN_READER}


@dataclass(frozen=True)
class Reader:
    name: str
    card_present: bool
    atr: bytes = b""
    mute: bool = False  # a card is there but does not answer (inserted the wrong way, damaged)


@dataclass(frozen=True)
class Snapshot:
    service: bool  # pcscd answers
    readers: tuple[Reader, ...] = ()


class ReaderWatch:
    """Calls `on_change(snapshot)` from its thread at start and on every change."""

    def __init__(self, on_change: Callable[[Snapshot], None]) -> None:
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pcsc-watch", daemon=True)
        self._last: Snapshot | None = None
        self._context: int | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        context = self._context
        if context is not None:  # wake SCardGetStatusChange now rather than at its next timeout
            scard.SCardCancel(context)
        self._thread.join(5)

    def _report(self, snapshot: Snapshot) -> None:
        if snapshot != self._last:
            self._last = snapshot
            try:
                self._on_change(snapshot)
            except Exception:  # the listener's bug must not stop the watch
                log.exception("card reader listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                self._report(Snapshot(service=False))
                self._stop.wait(RETRY_SECONDS)
                continue
            self._context = context
            try:
                self._watch(context)
            finally:
                self._context = None
                scard.SCardReleaseContext(context)
            if not self._stop.is_set():
                self._report(Snapshot(service=False))
                self._stop.wait(RETRY_SECONDS)

    def _watch(self, context: int) -> None:
        """Until pcscd is lost or the watch is stopped."""
        while not self._stop.is_set():
            hresult, names = scard.SCardListReaders(context, [])
            if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
                names = []
            elif hresult != scard.SCARD_S_SUCCESS:
                log.info("pcscd: cannot list the readers (%s)", scard.SCardGetErrorMessage(hresult))
                return
            states = [(name, scard.SCARD_STATE_UNAWARE) for name in names] + [(PNP, scard.SCARD_STATE_UNAWARE)]
            hresult, states = scard.SCardGetStatusChange(context, 0, states)
            if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
                return
            while not self._stop.is_set():
                self._report(Snapshot(True, tuple(_reader(name, state, atr) for name, state, atr in states if name != PNP)))
                current = [(name, state & ~scard.SCARD_STATE_CHANGED) for name, state, _ in states]
                hresult, changed = scard.SCardGetStatusChange(context, WAIT_MS, current)
                if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                    continue  # the loop's condition says whether to go on
                if hresult in _SERVICE_LOST or hresult != scard.SCARD_S_SUCCESS:
                    if hresult not in _SERVICE_LOST:
                        log.info("pcscd: %s", scard.SCardGetErrorMessage(hresult))
                    return
                if any(name == PNP and state & scard.SCARD_STATE_CHANGED for name, state, _ in changed) \
                        or any(state & scard.SCARD_STATE_UNKNOWN for _, state, _ in changed):
                    break  # a reader came or went: list them again
                states = changed


def _reader(name: str, state: int, atr: list[int]) -> Reader:
    present = bool(state & scard.SCARD_STATE_PRESENT)
    return Reader(name=name, card_present=present, atr=bytes(atr) if present else b"", mute=bool(state & scard.SCARD_STATE_MUTE))
