"""The practice mode's life: started for a nurse, entered with a one-time code, left, erased."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent import audit
from agent.access import accounts, sessions
from agent.access.accounts import Principal
from agent.audit import AuditEvent
from agent.clock import now
from agent.config import MESH_LIMIT, Config, PracticeConfig
from agent.logs import fields
from agent.store import Store

log = logging.getLogger("agent.practice")

DIRECTORY = "practice"
PRACTICE_HOST = "practice.localhost"  # Chromium resolves *.localhost to loopback by itself
ENTRY_SECONDS = 60  # the one-time code of the kiosk's jump into the practice instance
# The kiosk leaves an idle practice itself at [practice] idle_minutes (its strip's countdown); the
# agent ends it a little later, for a kiosk that is not there to (closed, crashed): at most two minutes.
IDLE_GRACE_SECONDS = 120


class Instance(Protocol):
    """The practice agent as the mode sees it (agent/app.py's PracticeAgent)."""

    store: Store

    async def stop(self) -> None: ...


StartInstance = Callable[["Practice", socket.socket], Awaitable[Instance]]


@dataclass(frozen=True)
class Entry:
    login: str
    expires: float


class Practice:
    """One practice at a time on a cart (it has one screen). `start_instance` builds and starts the
    practice agent on the listening socket it is given (made here, so its port is known first)."""

    def __init__(self, config: PracticeConfig, data_dir: Path, start_instance: StartInstance, store: Store) -> None:
        self.port = config.port
        self._store = store  # the real agent's: entering and leaving are in the real audit trail
        self.directory = data_dir / DIRECTORY
        self._start_instance = start_instance
        self._instance: Instance | None = None
        self._sock: socket.socket | None = None
        self._entries: dict[str, Entry] = {}
        self._lock = asyncio.Lock()
        self.back_to: str | None = None  # where the kiosk was before: where « Quitter » takes it back
        self.who: tuple[str, str | None] | None = None  # the last nurse let in (login, role)
        # Who waits in the real cart's rooms (Calls.presence): a real doctor must not wait unseen
        # while the nurse practises. Set by the real agent.
        self.real_presence: Callable[[], list[dict]] = list
        self.idle_seconds = config.idle_minutes * 60
        self._entered_at = 0.0
        self._watch: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._instance is not None

    @property
    def url(self) -> str:
        assert self._sock is not None
        return f"http://{PRACTICE_HOST}:{self._sock.getsockname()[1]}"

    async def enter(self, account: dict, back_to: str) -> str:
        """The address that lets `account` (as `accounts.find_by_login` gives it) into the practice,
        started if need be; valid once, for a minute."""
        async with self._lock:
            if self._instance is None:
                await asyncio.get_running_loop().run_in_executor(None, self.erase)
                self.directory.mkdir(mode=0o700)
                self._sock = _listening(self.port)
                try:
                    self._instance = await self._start_instance(self, self._sock)
                except BaseException:
                    self._sock.close()
                    self._sock = None
                    raise
                log.info("practice mode started", extra=fields(event="practice_started", login=account["login"]))
            await self._instance.store.write(accounts.copy_account, account)
            await self._store.write(audit.append, AuditEvent(actor=account["login"], role=account["role"], action="practice.enter",
                                                             detail="mode entraînement : résidents fictifs, rien n'est envoyé"), essential=True)
            self.who = account["login"], account["role"]
            self.back_to = back_to
            self._entered_at = now()
            if self._watch is None or self._watch.done():
                self._watch = asyncio.get_running_loop().create_task(self._end_when_idle())
            code = secrets.token_urlsafe(24)
            moment = time.monotonic()
            self._entries = {c: e for c, e in self._entries.items() if e.expires > moment} | {code: Entry(account["login"], moment + ENTRY_SECONDS)}
            return f"{self.url}/#/entree/{code}"  # in the fragment: the kiosk posts it, no log ever holds it

    def take_entry(self, code: str) -> str | None:
        """The login a one-time entry code lets in, once; None when unknown or expired."""
        entry = self._entries.pop(code, None)
        return entry.login if entry and entry.expires > time.monotonic() else None

    def real_callers(self) -> list[str]:
        """The names of those waiting for the cart in a real room now (the practice strip says so)."""
        return [person["name"] for room in self.real_presence() if not room["cart_in_call"] for person in room["present"] + room["waiting"]]

    async def principal(self, login: str) -> Principal | None:
        assert self._instance is not None
        row = await self._instance.store.read(accounts.find_by_login, login)
        return accounts.principal_of(row) if row else None

    async def _end_when_idle(self) -> None:
        """Ends the practice once no session of it was used for idle_seconds (and the grace): the
        sessions' last activity counts the nurse's requests and a practice call's socket, not the
        kiosk's background refreshes."""
        grace = min(IDLE_GRACE_SECONDS, self.idle_seconds / 4)
        while (instance := self._instance) is not None:
            last = max(await instance.store.read(sessions.last_activity) or 0.0, self._entered_at)
            left = last + self.idle_seconds + grace - now()
            if left <= 0:
                await self.leave(idle=True)
                return
            await asyncio.sleep(min(left, 30.0))

    async def leave(self, idle: bool = False) -> None:
        """The practice agent stopped and everything it kept erased (`idle`: nobody used it)."""
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
        async with self._lock:
            instance, self._instance = self._instance, None
            self._entries.clear()
            if instance is not None:
                await instance.stop()
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            await asyncio.get_running_loop().run_in_executor(None, self.erase)
            if instance is not None:
                login, role = self.who or ("chariot", None)
                ended = f"fin de l'entraînement après {self.idle_seconds / 60:g} min sans activité" if idle else "fin de l'entraînement"
                await self._store.write(audit.append, AuditEvent(actor=login, role=role, action="practice.leave",
                                                                 detail=f"{ended} : ses données sont effacées"), essential=True)
                log.info("practice mode left, its data erased", extra=fields(event="practice_left", idle=idle))

    def erase(self) -> None:
        """Everything the practice kept: its database, its blobs, its key. Also at start, for a
        practice a power cut ended."""
        if self.directory.exists():
            shutil.rmtree(self.directory)


def practice_config(config: Config, directory: Path, port: int) -> Config:
    """The real agent's configuration made the practice's: its own directory, loopback only under
    the practice host, no HTTPS listener (no technician's page, no link reachable from outside), no
    regional server (nor its Janus), no Pro Santé Connect, no auto-answer. Devices and the call's
    other settings stay."""
    url = f"http://{PRACTICE_HOST}:{port}"
    return config.model_copy(update={
        "server": config.server.model_copy(update={"host": "127.0.0.1", "port": port, "https_port": 0, "public_url": url, "allowed_hosts": []}),
        "storage": config.storage.model_copy(update={"data_dir": directory}),
        "security": config.security.model_copy(update={"cookie_secure": False}),
        "sync": config.sync.model_copy(update={"fhir_base_url": ""}),
        "psc": config.psc.model_copy(update={"enabled": False}),
        "call": config.call.model_copy(update={"auto_answer": False, "sfu_url": "",
                                               "max_remote_participants": min(config.call.max_remote_participants, MESH_LIMIT)}),
        "technician": config.technician.model_copy(update={"page": False, "announce": False}),
    })


def _listening(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock
