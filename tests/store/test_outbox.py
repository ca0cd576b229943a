"""The outbox: a change for the regional server is recorded in the same transaction as the change."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from agent.identity import patients
from agent.identity.ins import key_of
from agent.store import outbox, transaction
from agent.store.changes import DossierStateChange, Operation
from agent.store.database import DATABASE_NAME, connect
from tests.live import LiveAgent

PATIENT = {"birth_name": "OUTBOXTEST", "used_name": "ÉPOUSE", "first_names": ["Jeanne", "Marie"],
           "birth_date": "1934-03-14", "sex": "F", "identity_status": "QUAL",
           "ins": "2340375056001" + key_of("2340375056001")}


def read_only(data_dir: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{data_dir / DATABASE_NAME}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def test_created_patient_enters_the_outbox_once(live_agent: LiveAgent) -> None:
    client = live_agent.login(live_agent.add_account())
    reply = client.post(f"{live_agent.url}/api/v1/patients", json=PATIENT)
    assert reply.status_code == 201, reply.text
    patient_id = reply.json()["id"]
    # Reading and listing are not changes: they must not enter the outbox.
    assert client.get(f"{live_agent.url}/api/v1/patients/{patient_id}").status_code == 200
    assert client.get(f"{live_agent.url}/api/v1/patients").status_code == 200
    # A refused creation is not a change either.
    refused = client.post(f"{live_agent.url}/api/v1/patients", json={**PATIENT, "sex": "X"})
    assert refused.status_code == 422, refused.text

    conn = read_only(live_agent.data_dir)
    try:
        rows = [dict(r) for r in conn.execute("SELECT * FROM outbox")]
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["entity"] == "patient"
        assert row["entity_id"] == patient_id
        assert row["operation"] == "create"
        assert row["state"] == "pending"
        assert row["attempts"] == 0
        payload = json.loads(row["payload"])
        assert payload["id"] == patient_id
        assert payload["birth_name"] == "OUTBOXTEST" and payload["used_name"] == "ÉPOUSE"
        assert json.loads(payload["first_names"]) == ["Jeanne", "Marie"]
        assert payload["birth_date"] == "1934-03-14" and payload["sex"] == "F" and payload["identity_status"] == "QUAL"
        assert "created_by" not in payload  # who typed it stays on the cart
        stored = conn.execute("SELECT * FROM patients WHERE id = ?", [patient_id]).fetchone()
        assert stored is not None and stored["created_at"] == payload["created_at"]
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
        # The audit record of the creation is there too.
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'patient.create' AND patient_id = ?",
                            [patient_id]).fetchone()[0] == 1
    finally:
        conn.close()

    metrics = client.get(f"{live_agent.url}/metrics").text
    assert "telecart_outbox_pending 1.0" in metrics


def test_outbox_entry_outside_a_transaction_is_refused(tmp_path: Path) -> None:
    db = connect(tmp_path / DATABASE_NAME)
    try:
        with pytest.raises(AssertionError):
            outbox.record(db, "x", Operation.CREATE, DossierStateChange(state="scheduled"))
        assert outbox.pending_count(db) == 0
    finally:
        db.close()


def test_rolled_back_change_leaves_neither_row_nor_outbox_nor_audit(tmp_path: Path) -> None:
    db = connect(tmp_path / DATABASE_NAME)
    try:
        actor = patients.Actor("nurse1", "nurse", "127.0.0.1")
        new = patients.NewIdentity("ROLLBACK", ["Paul"], date(1930, 1, 1), "M")
        with pytest.raises(RuntimeError), transaction(db):
            patients.create(db, new, actor)
            assert outbox.pending_count(db) == 1
            raise RuntimeError("crash after the change")
        assert db.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
        assert outbox.pending_count(db) == 0
        assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 0

        with transaction(db):
            kept = patients.create(db, new, actor)
        assert outbox.pending_count(db) == 1
        assert db.execute("SELECT entity_id FROM outbox").fetchone()[0] == kept.id
    finally:
        db.close()
