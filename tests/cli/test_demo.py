"""`telecart demo`: prints the demo accounts (password, one-time-code secret), serves the kiosk with
demo data, and `telecart users otp` prints a demo account's current code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
import requests

from tests.cli.cli import assert_plain_error, telecart
from tests.live import LiveAgent, free_port
from tests.processes import end

_ROW = re.compile(r"^(?P<login>[a-z0-9._-]+)\s+(?P<password>\S+)\s+(?P<role>nurse|doctor|technician|admin)\s+"
                  r"(?P<code>\d{6})\s+(?P<secret>[A-Z2-7]{16,})\s*$")


@dataclass
class DemoRun:
    proc: subprocess.Popen[str]
    data_dir: Path
    port: int
    stdout: str
    accounts: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_demo(data_dir: Path, port: int, log: Path, timeout: float = 30) -> DemoRun:
    with open(log, "ab") as stderr:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "demo", "--data-dir", str(data_dir), "--port", str(port), "--https-port", "0"],
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    # The banner ends with the hint about `telecart users otp`; it is flushed before serving.
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "users otp" in line:
            break
    stdout = "".join(lines)
    accounts = {m["login"]: m.groupdict() for line in lines if (m := _ROW.match(line.rstrip("\n")))}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"demo exited with {proc.returncode}:\n{stdout}\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return DemoRun(proc, data_dir, port, stdout, accounts)
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"demo not ready:\n{stdout}")


def stop(proc: subprocess.Popen[str]) -> int:
    return end(proc)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    root = tmp_path_factory.mktemp("demo")
    run = start_demo(root / "data", free_port(), root / "demo.log")
    try:
        yield run
    finally:
        stop(run.proc)


def login(run: DemoRun, account: dict[str, str], code: str | None = None) -> requests.Response:
    client = requests.Session()
    reply = client.post(f"{run.url}/api/v1/session", json={
        "login": account["login"], "password": account["password"],
        "otp": code or pyotp.TOTP(account["secret"]).now()})
    reply.client = client  # type: ignore[attr-defined]
    return reply


def test_demo_prints_every_account_with_password_and_secret(demo_run: DemoRun) -> None:
    assert set(demo_run.accounts) == {"infirmiere", "medecin", "technicien", "admin"}, demo_run.stdout
    roles = {login: acc["role"] for login, acc in demo_run.accounts.items()}
    assert roles == {"infirmiere": "nurse", "medecin": "doctor", "technicien": "technician", "admin": "admin"}
    for acc in demo_run.accounts.values():
        assert len(acc["password"]) >= 10
        pyotp.TOTP(acc["secret"]).now()  # a valid base32 secret
        # The printed "code now" is the secret's code at the time of printing (or just before).
        here = int(time.time() // 30)
        assert acc["code"] in {pyotp.TOTP(acc["secret"]).generate_otp(s) for s in range(here - 2, here + 1)}
    assert f":{demo_run.port}/" in demo_run.stdout
    assert str(demo_run.data_dir) in demo_run.stdout


def test_demo_login_and_dossiers(demo_run: DemoRun) -> None:
    reply = login(demo_run, demo_run.accounts["infirmiere"])
    assert reply.status_code == 201, reply.text
    assert reply.json()["user"]["role"] == "nurse"
    client: requests.Session = reply.client  # type: ignore[attr-defined]
    client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]

    dossiers = client.get(f"{demo_run.url}/api/v1/dossiers")
    assert dossiers.status_code == 200, dossiers.text
    body = dossiers.json()
    assert body["total"] == len(body["items"]) >= 5
    states = {d["state"] for d in body["items"]}
    assert {"in_progress", "scheduled", "awaiting_report", "closed"} <= states
    assert body["items"][0]["state"] == "in_progress"  # the running teleconsultation comes first
    for d in body["items"]:
        assert d["patient_name"] and d["patient_birth_date"] and d["patient_sex"] in ("F", "M", "I")

    patients = client.get(f"{demo_run.url}/api/v1/patients", params={"limit": 500})
    assert patients.status_code == 200
    assert patients.json()["total"] >= 10
    assert {d["patient_id"] for d in body["items"]} <= {p["id"] for p in patients.json()["items"]}


def test_demo_password_is_checked(demo_run: DemoRun) -> None:
    account = dict(demo_run.accounts["admin"])
    account["password"] = "pas-le-bon-mot-de-passe"
    assert login(demo_run, account).status_code == 401


def test_users_otp_prints_a_code_that_logs_in(demo_run: DemoRun) -> None:
    medecin = demo_run.accounts["medecin"]
    before = int(time.time() // 30)
    done = telecart("users", "otp", "medecin", "--data-dir", demo_run.data_dir)
    after = int(time.time() // 30)
    assert done.returncode == 0, done.stderr
    code = done.stdout.strip()
    assert re.fullmatch(r"\d{6}", code), done.stdout
    assert code in {pyotp.TOTP(medecin["secret"]).generate_otp(s) for s in range(before, after + 1)}
    reply = login(demo_run, medecin, code)
    assert reply.status_code == 201, reply.text
    assert reply.json()["user"]["login"] == "medecin"


def test_users_otp_unknown_login_on_demo_data(demo_run: DemoRun) -> None:
    done = telecart("users", "otp", "personne", "--data-dir", demo_run.data_dir)
    assert_plain_error(done)
    assert "personne" in done.stderr
    assert not re.search(r"\b\d{6}\b", done.stdout)


def test_users_otp_is_refused_on_a_real_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    agent = LiveAgent(data_dir, free_port())
    agent.add_account(login="vraie.infirmiere")
    done = telecart("users", "otp", "vraie.infirmiere", "--data-dir", data_dir)
    assert_plain_error(done)
    assert "demo" in done.stderr
    assert not re.search(r"\b\d{6}\b", done.stdout), done.stdout


def test_demo_stops_on_sigterm_and_keeps_its_data_on_a_second_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_demo(data_dir, free_port(), tmp_path / "first.log")
    try:
        reply = login(first, first.accounts["infirmiere"])
        assert reply.status_code == 201, reply.text
        client: requests.Session = reply.client  # type: ignore[attr-defined]
        client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
        made = client.post(f"{first.url}/api/v1/patients", json={
            "birth_name": "GARDE", "first_names": ["Rose"], "birth_date": "1937-04-04", "sex": "F"})
        assert made.status_code == 201, made.text
        total = client.get(f"{first.url}/api/v1/patients").json()["total"]
    finally:
        assert stop(first.proc) == 0
    assert "new demo data" in first.stdout

    second = start_demo(data_dir, free_port(), tmp_path / "second.log")
    try:
        assert "demo data kept" in second.stdout
        assert second.accounts.keys() == first.accounts.keys()
        reply = login(second, second.accounts["medecin"])
        assert reply.status_code == 201, reply.text
        client = reply.client  # type: ignore[attr-defined]
        names = [p["birth_name"] for p in client.get(f"{second.url}/api/v1/patients", params={"limit": 500}).json()["items"]]
        assert names.count("GARDE") == 1
        assert len(names) == total  # the residents were not seeded a second time
    finally:
        assert stop(second.proc) == 0
    assert os.path.exists(data_dir / "telecart.db")
