"""`telecart users add`: an account with a password and a one-time-code secret, shown as an
otpauth:// URI and a QR code, usable at once to log in to the agent."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import requests
import segno

from agent.access import keys
from agent.store.database import DATABASE_NAME
from tests.cli.cli import assert_plain_error, telecart
from tests.live import LiveAgent, free_port

PASSWORD = "un-mot-de-passe-long"

# segno's compact terminal output: two QR rows per text line, light modules drawn as blocks.
_HALF = {"█": (0, 0), "▀": (0, 1), "▄": (1, 0), " ": (1, 1)}  # (upper dark?, lower dark?)


def add_user(data_dir: Path, login: str, password: str = PASSWORD, role: str = "nurse", *extra: str):
    return telecart("users", "add", login, "--role", role, "--password-stdin", "--data-dir", data_dir, *extra,
                    stdin=password + "\n")


def otpauth_uri(stdout: str) -> str:
    uris = [line.strip() for line in stdout.splitlines() if line.strip().startswith("otpauth://")]
    assert len(uris) == 1, stdout
    return uris[0]


def qr_matrix(stdout: str) -> list[list[int]]:
    """The QR code printed on the terminal, back to rows of modules (1 = dark)."""
    lines = [line for line in stdout.splitlines() if line and set(line) <= set(_HALF) and set(line) & set("█▀▄")]
    assert len(lines) > 10, f"no QR code in the output:\n{stdout}"
    rows: list[list[int]] = []
    for line in lines:
        rows.append([_HALF[ch][0] for ch in line])
        rows.append([_HALF[ch][1] for ch in line])
    return rows


def users(data_dir: Path) -> list[dict]:
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM users ORDER BY login")]
    finally:
        conn.close()


def test_users_add_prints_a_working_otpauth_uri_and_its_qr_code(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = add_user(data_dir, "jdupont", PASSWORD, "nurse", "--name", "Jeanne Dupont")
    assert done.returncode == 0, done.stderr
    assert "jdupont" in done.stdout and "nurse" in done.stdout

    uri = otpauth_uri(done.stdout)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Telecart:jdupont"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Telecart"]
    secret = query["secret"][0]
    assert len(secret) >= 16 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    # Defaults an authenticator app assumes when they are absent: SHA1, 6 digits, 30 s.
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]

    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP) and totp.issuer == "Telecart" and totp.name == "jdupont"
    [stored] = users(data_dir)
    assert stored["login"] == "jdupont" and stored["role"] == "nurse" and stored["display_name"] == "Jeanne Dupont"
    assert secret not in stored["otp_secret"] and keys.load(data_dir).unseal(stored["otp_secret"]) == secret  # sealed, key elsewhere
    assert PASSWORD not in stored["password_hash"] and stored["password_hash"].startswith("$argon2id$")
    assert totp.at(1_700_000_000) == pyotp.TOTP(keys.load(data_dir).unseal(stored["otp_secret"])).at(1_700_000_000)

    # The QR code on the terminal encodes exactly that URI.
    expected = segno.make(uri, error="m")
    printed = qr_matrix(done.stdout)
    reference = [list(row) for row in expected.matrix_iter(scale=1, border=4)]
    reference = [[1 if module else 0 for module in row] for row in reference]
    if len(printed) == len(reference) + 1:  # an odd row count is padded with one dark half-row
        assert printed[-1] == [1] * len(printed[-1])
        printed = printed[:-1]
    assert printed == reference


def test_new_account_logs_in_to_the_agent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = add_user(data_dir, "infirmier.nuit", PASSWORD, "nurse")
    assert done.returncode == 0, done.stderr
    totp = pyotp.parse_uri(otpauth_uri(done.stdout))

    agent = LiveAgent(data_dir, free_port()).start()
    try:
        client = requests.Session()
        wrong = client.post(f"{agent.url}/api/v1/session",
                            json={"login": "infirmier.nuit", "password": PASSWORD + "x", "otp": totp.now()})
        assert wrong.status_code == 401, wrong.text
        reply = client.post(f"{agent.url}/api/v1/session",
                            json={"login": "infirmier.nuit", "password": PASSWORD, "otp": totp.now()})
        assert reply.status_code == 201, reply.text
        user = reply.json()["user"]
        assert user["login"] == "infirmier.nuit" and user["role"] == "nurse"
        client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
        assert client.get(f"{agent.url}/api/v1/patients").status_code == 200
    finally:
        assert agent.stop() == 0


def test_duplicate_login_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert add_user(data_dir, "medecin1", role="doctor").returncode == 0
    before = users(data_dir)
    again = add_user(data_dir, "medecin1", "another-long-password", "admin")
    assert_plain_error(again)
    assert "medecin1" in again.stderr and "already exists" in again.stderr
    assert "otpauth://" not in again.stdout
    assert users(data_dir) == before  # the first account is untouched


def test_short_password_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = add_user(data_dir, "court", "123456789")  # 9 characters
    assert_plain_error(done)
    assert "10 characters" in done.stderr
    assert "otpauth://" not in done.stdout
    assert users(data_dir) == []
    assert add_user(data_dir, "court", "1234567890").returncode == 0  # 10 is enough


def test_bad_login_and_missing_stdin_flag_are_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bad = add_user(data_dir, "Jean Dupont")
    assert_plain_error(bad)
    assert "login" in bad.stderr

    no_flag = telecart("users", "add", "sansflag", "--role", "nurse", "--data-dir", data_dir, stdin=PASSWORD + "\n")
    assert_plain_error(no_flag)
    assert "--password-stdin" in no_flag.stderr

    bad_role = telecart("users", "add", "x1", "--role", "chef", "--password-stdin", "--data-dir", data_dir, stdin=PASSWORD + "\n")
    assert bad_role.returncode != 0 and "chef" in bad_role.stderr

    assert users(data_dir) == []


def test_users_list_shows_created_accounts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert add_user(data_dir, "bbb", role="doctor").returncode == 0
    assert add_user(data_dir, "aaa", role="admin").returncode == 0
    listed = telecart("users", "list", "--data-dir", data_dir)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    assert [line[:2] for line in lines] == [["aaa", "admin"], ["bbb", "doctor"]]


def test_creation_is_audited(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    started = time.time()
    assert add_user(data_dir, "audite", role="technician").returncode == 0
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    try:
        rows = conn.execute("SELECT actor, action, detail FROM audit").fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, rows
    actor, action, detail = rows[0]
    assert (actor, action) == ("cli", "account.create")
    assert detail.startswith("audite ")
    assert time.time() - started < 30
