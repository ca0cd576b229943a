"""The cart's secret key, kept out of the database, and what it protects in it.

The key is 32 random bytes in a file of its own, readable by the agent alone: systemd's
credential `telecart.key` when the service has one ($CREDENTIALS_DIRECTORY, which the appliance
can seal to the TPM), else `secret.key` beside the database, made on first start with mode 0600.
A stolen copy of the database alone then holds no usable secret.

From it, HKDF derives one key per use:
- `seal` / `unseal`: AES-256-GCM for the secrets the database must keep (the staff's TOTP secrets,
  the invitation links' signing key, messages waiting to be sent). A sealed value is text,
  "sealed:v1:<base64 of nonce and ciphertext>"; an older value in clear is sealed at start.
- `audit_key`: the HMAC key of the audit trail's chain (agent/audit.py), so that whoever can
  write the file but not read the key cannot rebuild a chain that verifies.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlite_utils import Database

KEY_FILE = "secret.key"
CREDENTIAL = "telecart.key"
_PREFIX = "sealed:v1:"


class KeyUnusable(Exception):
    """The key file is missing a usable key, or a sealed value does not open with it."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"telecart " + purpose).derive(master)


class Keys:
    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise KeyUnusable("the cart's key must be 32 bytes")
        self._aead = AESGCM(_derive(master, b"seal v1"))
        self.audit_key = _derive(master, b"audit chain v1")

    def seal(self, clear: str) -> str:
        nonce = secrets.token_bytes(12)
        return _PREFIX + base64.b64encode(nonce + self._aead.encrypt(nonce, clear.encode("utf-8"), None)).decode("ascii")

    def unseal(self, value: str) -> str:
        if not is_sealed(value):
            raise KeyUnusable("not a sealed value")
        raw = base64.b64decode(value[len(_PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")
        except Exception as exc:  # InvalidTag: another cart's key, or a tampered value
            raise KeyUnusable("a sealed value does not open with this cart's key") from exc


def is_sealed(value: str | None) -> bool:
    return bool(value) and value.startswith(_PREFIX)  # type: ignore[union-attr]


def key_path(data_dir: Path) -> Path:
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        return Path(credentials) / CREDENTIAL
    return data_dir / KEY_FILE


def load(data_dir: Path) -> Keys:
    """The cart's keys; the key file is made (0600, written whole then renamed) on first use."""
    path = key_path(data_dir)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    return Keys(path.read_bytes())


def attach(db: Database, keys: Keys) -> None:
    db.telecart_keys = keys  # type: ignore[attr-defined]


def keys_of(db: Database) -> Keys:
    """The keys of the cart whose database this is (attached by agent.store.database.connect)."""
    return db.telecart_keys  # type: ignore[attr-defined]


def seal_what_is_clear(db: Database, keys: Keys) -> int:
    """Seal the secrets an older agent kept in clear (at start, once); returns how many."""
    sealed = 0
    for table, column, where in SEALED_COLUMNS:
        rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} NOT LIKE ? AND {where}",  # noqa: S608
                          [_PREFIX + "%"]).fetchall()
        for rowid, value in rows:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [keys.seal(value), rowid])  # noqa: S608
            sealed += 1
    return sealed


# Every column that keeps a secret, sealed; a message's body only while it waits to be sent (once
# sent or given up, agent/notify/queue.py erases it).
SEALED_COLUMNS = (
    ("users", "otp_secret", "1"),
    ("meta", "value", "key = 'invitation_key'"),
    ("deliveries", "body", "state = 'pending'"),
)
