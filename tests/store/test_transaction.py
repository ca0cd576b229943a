"""One transaction per change: everything or nothing, except a counted refusal, whose bookkeeping
(the try it counts, its audit record) commits before it reaches the caller."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from agent.refusal import CountedRefusal, Refused
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = connect(tmp_path / DATABASE_NAME)
    database["tries"].create({"id": int, "n": int}, pk="id")
    database["tries"].insert({"id": 1, "n": 0})
    yield database
    database.close()


def count(db: Database) -> int:
    return db.execute("SELECT n FROM tries WHERE id = 1").fetchone()[0]


def one_more_try(db: Database, refusal: Exception) -> None:
    db.execute("UPDATE tries SET n = n + 1 WHERE id = 1")
    raise refusal


@pytest.mark.parametrize("nested", [False, True], ids=["outermost", "inside-another-transaction"])
def test_a_counted_refusal_keeps_its_count_and_any_other_error_undoes_it(db: Database, nested: bool) -> None:
    def run(refusal: Exception) -> None:
        with transaction(db):
            if nested:
                with transaction(db):
                    one_more_try(db, refusal)
            else:
                one_more_try(db, refusal)

    with pytest.raises(CountedRefusal):
        run(CountedRefusal("code_wrong"))
    assert count(db) == 1
    with pytest.raises(Refused):
        run(Refused("bad_transition"))
    with pytest.raises(RuntimeError):
        run(RuntimeError("crash"))
    assert count(db) == 1
