"""The audit trail: append-only in the database, hash-chained, and verify() names the first
record that was altered or removed."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from agent import audit
from agent.access.keys import keys_of
from agent.audit import AuditEvent
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect

HASHED_TEXT_FIELDS = ("at", "actor", "role", "action", "patient_id", "remote_addr", "outcome", "detail", "prev_hash", "hash")
NULLABLE = {"role", "patient_id", "remote_addr", "detail"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(tmp_path / DATABASE_NAME)
    yield database
    database.close()


def append_all(db: Database, events: list[AuditEvent]) -> list[audit.AuditRecord]:
    with transaction(db):
        return [audit.append(db, event) for event in events]


def sample_events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(actor=f"user{i % 3}", action="patient.read", role="nurse", patient_id=f"p{i % 4}",
                   remote_addr="127.0.0.1", detail=f"lecture n°{i}")
        for i in range(n)
    ]


def drop_triggers(db: Database) -> None:
    """What someone with write access to the file would do first."""
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    db.conn.commit()


def test_append_builds_a_chain_that_verifies(db: Database) -> None:
    records = append_all(db, sample_events(7))
    assert [r.seq for r in records] == list(range(1, 8))
    assert records[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    assert len({r.hash for r in records}) == 7
    assert audit.verify(db) == (7, None)


def test_chain_continues_across_transactions_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    first = connect(path)
    append_all(first, sample_events(3))
    append_all(first, sample_events(2))
    first.close()
    second = connect(path)
    try:
        record = append_all(second, [AuditEvent(actor="admin", action="audit.read")])[0]
        assert record.seq == 6
        assert audit.verify(second) == (6, None)
    finally:
        second.close()


def test_empty_trail_verifies(db: Database) -> None:
    assert audit.verify(db) == (0, None)


def test_append_outside_a_transaction_is_refused(db: Database) -> None:
    with pytest.raises(AssertionError):
        audit.append(db, AuditEvent(actor="x", action="login"))
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 0


def test_rolled_back_transaction_leaves_no_record(db: Database) -> None:
    append_all(db, sample_events(2))
    with pytest.raises(RuntimeError), transaction(db):
        audit.append(db, AuditEvent(actor="x", action="patient.create"))
        raise RuntimeError("the change failed")
    assert audit.verify(db) == (2, None)


def test_database_refuses_update_and_delete(tmp_path: Path, db: Database) -> None:
    append_all(db, sample_events(3))
    before = db.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    # A separate, plain connection: the refusal comes from the database file, not from agent code.
    raw = sqlite3.connect(tmp_path / DATABASE_NAME)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE audit SET detail = 'rien vu' WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM audit WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM audit")
        raw.rollback()
    finally:
        raw.close()
    assert db.execute("SELECT * FROM audit ORDER BY seq").fetchall() == before
    assert audit.verify(db) == (3, None)


def test_altered_detail_is_named(db: Database) -> None:
    append_all(db, sample_events(6))
    drop_triggers(db)
    db.execute("UPDATE audit SET detail = 'lecture anodine' WHERE seq = 4")
    db.conn.commit()
    checked, broken = audit.verify(db)
    assert broken is not None
    assert broken.seq == 4
    assert checked == 3
    assert "altered" in broken.reason


def test_altered_record_with_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    """Recomputing the altered record's own hash does not help: the next record points elsewhere."""
    append_all(db, sample_events(5))
    drop_triggers(db)
    row = dict(db.execute_returning_dicts("SELECT * FROM audit WHERE seq = 2")[0])
    row["actor"] = "quelqu'un d'autre"
    row["hash"] = audit._digest(row, keys_of(db).audit_key)  # even with the cart's key
    db.execute("UPDATE audit SET actor = ?, hash = ? WHERE seq = 2", [row["actor"], row["hash"]])
    db.conn.commit()
    checked, broken = audit.verify(db)
    assert broken is not None and broken.seq == 3 and checked == 2
    assert "prev_hash" in broken.reason


def test_deleted_middle_record_is_detected(db: Database) -> None:
    append_all(db, sample_events(6))
    drop_triggers(db)
    db.execute("DELETE FROM audit WHERE seq = 3")
    db.conn.commit()
    checked, broken = audit.verify(db)
    assert broken is not None
    assert broken.seq == 3
    assert checked == 2
    assert "missing" in broken.reason


def test_deleted_middle_record_with_renumbered_tail_is_detected(db: Database) -> None:
    append_all(db, sample_events(6))
    drop_triggers(db)
    db.execute("DELETE FROM audit WHERE seq = 3")
    db.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3")
    db.conn.commit()
    checked, broken = audit.verify(db)
    assert broken is not None and broken.seq == 3 and checked == 2


def test_search_filters_newest_first(db: Database) -> None:
    append_all(db, [
        AuditEvent(actor="alice", action="patient.read", patient_id="P1"),
        AuditEvent(actor="bob", action="patient.read", patient_id="P2"),
        AuditEvent(actor="alice", action="patient.create", patient_id="P2"),
        AuditEvent(actor="bob", action="patient.read", patient_id="P1"),
        AuditEvent(actor="alice", action="login"),
        AuditEvent(actor="carol", action="patient.read", patient_id="P1"),
    ])
    by_patient = list(audit.search(db, patient_id="P1"))
    assert [r.seq for r in by_patient] == [6, 4, 1]
    assert all(r.patient_id == "P1" for r in by_patient)

    by_actor = list(audit.search(db, actor="alice"))
    assert [r.seq for r in by_actor] == [5, 3, 1]
    assert [r.action for r in by_actor] == ["login", "patient.create", "patient.read"]

    assert [r.seq for r in audit.search(db, patient_id="P1", actor="bob")] == [4]
    assert [r.seq for r in audit.search(db)] == [6, 5, 4, 3, 2, 1]
    assert [r.seq for r in audit.search(db, limit=2)] == [6, 5]
    assert [r.seq for r in audit.search(db, before_seq=5, limit=2)] == [4, 3]
    assert [r.seq for r in audit.search(db, patient_id="P1", before_seq=4)] == [1]
    assert list(audit.search(db, patient_id="P9")) == []
    assert list(audit.search(db, actor="mallory")) == []
    # The records come back whole, hash included.
    first = next(iter(audit.search(db, actor="carol")))
    assert first.hash == db.execute("SELECT hash FROM audit WHERE seq = 6").fetchone()[0]


# --- property: any chain verifies, any single alteration is found at the altered record -------

_text = st.text(max_size=30)
events_strategy = st.lists(
    st.builds(
        AuditEvent,
        actor=st.text(min_size=1, max_size=20),
        action=st.sampled_from(["login", "logout", "patient.read", "patient.create", "audit.read", "session.lock"]) | _text,
        outcome=st.sampled_from([audit.SUCCESS, audit.FAILURE, audit.DENIED]),
        role=st.none() | st.sampled_from(["nurse", "doctor", "admin", "technician"]),
        patient_id=st.none() | _text,
        remote_addr=st.none() | st.sampled_from(["127.0.0.1", "::1", "10.0.0.7"]),
        detail=st.none() | _text,
    ),
    min_size=1,
    max_size=8,
)


def fresh_memory_db() -> Database:
    return connect(Path(":memory:"))


@settings(max_examples=80, deadline=None)
@given(events=events_strategy)
def test_any_chain_verifies(events: list[AuditEvent]) -> None:
    db = fresh_memory_db()
    try:
        records = append_all(db, events)
        assert audit.verify(db) == (len(events), None)
        stored = [audit.AuditRecord(**row) for row in db.query("SELECT * FROM audit ORDER BY seq")]
        assert stored == records
    finally:
        db.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_strategy, data=st.data())
def test_any_single_alteration_is_found_at_that_record(events: list[AuditEvent], data: st.DataObject) -> None:
    db = fresh_memory_db()
    try:
        append_all(db, events)
        seq = data.draw(st.integers(1, len(events)), label="seq")
        field = data.draw(st.sampled_from(HASHED_TEXT_FIELDS), label="field")
        old = db.execute(f"SELECT {field} FROM audit WHERE seq = ?", [seq]).fetchone()[0]
        choices = _text | st.none() if field in NULLABLE else _text
        new = data.draw(choices.filter(lambda v: v != old), label="new value")
        drop_triggers(db)
        db.execute(f"UPDATE audit SET {field} = ? WHERE seq = ?", [new, seq])
        db.conn.commit()
        checked, broken = audit.verify(db)
        assert broken is not None, f"altering {field} of record {seq} went unnoticed"
        assert broken.seq == seq, broken
        assert checked == seq - 1
    finally:
        db.close()


@settings(max_examples=60, deadline=None)
@given(events=events_strategy.filter(lambda e: len(e) >= 2), data=st.data())
def test_any_renumbered_record_is_found_at_that_record(events: list[AuditEvent], data: st.DataObject) -> None:
    """Changing a record's seq (moving it elsewhere in the order) is also found at that record."""
    db = fresh_memory_db()
    try:
        append_all(db, events)
        n = len(events)
        seq = data.draw(st.integers(1, n), label="seq")
        new = data.draw(st.integers(-5, n + 5).filter(lambda v: not 1 <= v <= n), label="new seq")
        drop_triggers(db)
        db.execute("UPDATE audit SET seq = ? WHERE seq = ?", [new, seq])
        db.conn.commit()
        _, broken = audit.verify(db)
        assert broken is not None, f"moving record {seq} to {new} went unnoticed"
        assert broken.seq == seq, broken
    finally:
        db.close()


def test_a_chain_rebuilt_without_the_carts_key_does_not_verify(db: Database) -> None:
    """Whoever can write the file but not read the key (kept out of the database) rewrites a record
    and recomputes every hash after it, as a plain SHA-256 chain would allow: verify names it."""
    append_all(db, sample_events(4))
    drop_triggers(db)
    rows = [dict(r) for r in db.execute_returning_dicts("SELECT * FROM audit ORDER BY seq")]
    rows[1]["actor"] = "quelqu'un d'autre"
    prev = audit.GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = audit._digest(row, b"not the cart's key")
        db.execute("UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?", [row["actor"], row["prev_hash"], row["hash"], row["seq"]])
    db.conn.commit()
    checked, broken = audit.verify(db)
    assert broken is not None and broken.seq == 1 and checked == 0 and "altered" in broken.reason
