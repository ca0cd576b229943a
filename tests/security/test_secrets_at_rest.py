"""What a stolen copy of the database holds: no TOTP secret, no key that forges links, no link or
code of a message, searched for in the raw database file and its WAL while the agent runs; the
files readable by the agent's user alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.access.roles import Role
from agent.links import invitation
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect
from tests.api.helpers import API, logged_in, patient
from tests.live import free_port, running_agent

pytestmark = pytest.mark.security


def raw_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith(DATABASE_NAME))


def test_no_secret_is_readable_in_the_database_files(tmp_path: Path) -> None:
    port = free_port()
    os.umask(0o022)  # a careless shell: the agent keeps its files private all the same
    with running_agent(tmp_path, port=port, server={"public_url": f"http://127.0.0.1:{port}"}) as agent:
        account = agent.add_account(Role.NURSE)
        nurse = logged_in(agent, account)
        made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="SECRET", confirm_duplicate=True)).json()
        dossier = nurse.post(f"{agent.url}{API}/dossiers", json={
            "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
            "specialist": {"name": "PETIT", "specialty": "Cardiologie", "mobile": "0612345678"}, "slot": {"now": True}, "confirm_overlap": True}).json()
        token = dossier["invitations"][0]["link"].rsplit("/", 1)[1]  # waits in an SMS that cannot leave (no gateway)
        db = connect(agent.data_dir / DATABASE_NAME)
        with transaction(db):
            link_key = invitation.signing_key(db)
        db.close()

        found = raw_bytes(agent.data_dir)
        assert account.secret.encode() not in found
        assert token.encode() not in found and token.partition(".")[2].encode() not in found
        assert link_key.hex().encode() not in found
        assert b"sealed:v1:" in found  # they are there, sealed

        for path in agent.data_dir.iterdir():
            if path.name.startswith(DATABASE_NAME) or path.name == "secret.key":
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(agent.data_dir.stat().st_mode) == 0o700
        blobs = agent.data_dir / "blobs"
        assert not blobs.exists() or stat.S_IMODE(blobs.stat().st_mode) == 0o700
