"""A real agent on loopback for tests: started as a subprocess (`telecart run --simulate`), reached
over HTTP, stopped with a signal. Accounts are created straight in its data directory, as
`telecart users add` does, each with its own one-time-code secret."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import requests
import tomli_w

from agent.access import accounts
from agent.access.roles import Role
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Account:
    login: str
    password: str
    secret: str
    role: Role
    data_dir: Path | None = None  # the agent's, to forget used codes instead of waiting (below)
    _last_step: int = 0

    def code(self) -> str:
        """A code the agent has not seen yet for this account (a code works once): the current
        step, or the next one once the current was used (the agent accepts ±1 step). Once both are
        used, the account's last used step is set back in the agent's database, as 30 s of waiting
        would: a test signing the same nurse in a third time in half a minute does not sleep."""
        while True:
            current = int(time.time() // 30)
            step = max(current, self._last_step + 1)
            if step <= current + 1:
                break
            if self.data_dir is not None:
                self._forget_steps_from(current)
                step = current
                break
            time.sleep(30 - time.time() % 30 + 0.05)  # both near steps used: wait for the next one
        self._last_step = step
        return pyotp.TOTP(self.secret).generate_otp(step)

    def _forget_steps_from(self, step: int) -> None:
        assert self.data_dir is not None
        db = connect(self.data_dir / DATABASE_NAME)
        try:
            with transaction(db):
                db.execute("UPDATE users SET otp_last_step = ? WHERE login = ?", [step - 1, self.login])
        finally:
            db.close()


@dataclass
class LiveAgent:
    data_dir: Path
    port: int
    config: Path | None = None
    https_port: int = 0  # none by default: parallel agents would all want 8443
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> LiveAgent:
        args = [sys.executable, "-m", "agent.cli", "run", "--simulate", "--data-dir", str(self.data_dir), "--port", str(self.port),
                "--https-port", str(self.https_port)]
        if self.config:
            args += ["--config", str(self.config)]
        self.log_path = self.data_dir.parent / f"agent-{self.port}.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, env={**os.environ, **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or listening but still starting
                pass
            time.sleep(0.05)
        self.proc.kill()  # not left running behind the failed test
        self.proc.wait(10)
        raise RuntimeError(f"agent not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def add_account(self, role: Role = Role.NURSE, login: str | None = None, password: str = PASSWORD) -> Account:
        login = login or f"{role.value}{next(_counter)}-{os.getpid()}"
        db = connect(self.data_dir / DATABASE_NAME)
        try:
            with transaction(db):
                new = accounts.create_account(db, login, role, password, f"Test {login}")
        finally:
            db.close()
        return Account(login, password, new.otp_secret, role, self.data_dir)

    def login(self, account: Account) -> requests.Session:
        """A logged-in HTTP client that sends the CSRF token on every request."""
        client = requests.Session()
        reply = client.post(f"{self.url}/api/v1/session", json={"login": account.login, "password": account.password, "otp": account.code()})
        assert reply.status_code == 201, reply.text
        client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
        return client


@contextlib.contextmanager
def running_agent(root: Path, data_dir: Path | None = None, port: int | None = None, https_port: int = 0,
                  env: dict[str, str] | None = None, **sections: dict[str, Any]) -> Iterator[LiveAgent]:
    """An agent whose TOML configuration holds `sections` (e.g. security={"idle_lock_minutes": 0.05}),
    stopped on exit. The data directory is `data_dir` (which must exist) or a fresh one in `root`;
    `port` is free_port()'s when not given (pass one to put it in `server.public_url`); no HTTPS
    listener unless `https_port`."""
    root.mkdir(parents=True, exist_ok=True)
    config = None
    if sections:
        config = root / f"telecart-{uuid.uuid4().hex[:8]}.toml"
        config.write_text(tomli_w.dumps(sections), encoding="utf-8")
    if data_dir is None:
        data_dir = root / f"data-{uuid.uuid4().hex[:8]}"
        data_dir.mkdir()
    agent = LiveAgent(data_dir, port or free_port(), config=config, https_port=https_port, env=env or {})
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()
