"""How the identity searches chose the rows they read before the names index (migration 25): every
row whose name shares the first two letters or the sound of the (first) word, then scored one by
one in Python; the phonetic search's first name read through its own index. `before()` puts them
back into the agent's search functions, whose scoring and ranking are unchanged, so only the
choice of rows read differs.

What the agent's search must still find, row for row and rate for rate (test_search_at_scale.py),
and the "before" of bench/bench_identity_search.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

from sqlite_utils import Database

from agent.identity import patients, quick_search
from agent.identity.names import begins_with
from agent.identity.patients import APPROACHING_THRESHOLD, SCORED, SearchCriteria
from agent.identity.phonetic import key, normalise


@contextlib.contextmanager
def before() -> Iterator[None]:
    """patients.search and quick_search.search choosing their rows as they did (the one-box search's
    first step, every word beginning a name, read through whichever word SQLite picked)."""
    with (mock.patch.object(patients, "_candidates", candidates), mock.patch.object(quick_search, "_approaching", quick_approaching),
          mock.patch.object(quick_search, "_read_through", lambda words, uses: set(words))):
        yield


def _rows(db: Database, columns: tuple[str, ...], where: list[str], params: list[object]) -> list[dict]:
    cursor = db.conn.execute(f"SELECT {', '.join(columns)} FROM patients WHERE {' AND '.join(where) or '1'}", params)
    return [dict(zip(columns, values)) for values in cursor]


def candidates(db: Database, c: SearchCriteria) -> list[dict]:
    """patients._candidates before migration 25."""
    where: list[str] = []
    params: list[object] = []
    for clause, value in (("birth_date = ?", c.birth_date and c.birth_date.isoformat()), ("ins = ?", c.ins), ("sex = ?", c.sex)):
        if value:
            where.append(clause)
            params.append(value)
    if c.name:
        norm, phon = normalise(c.name), key(c.name)
        if c.mode == "exact":
            where.append("(birth_name_norm = ? OR used_name_norm = ?)")
            params += [norm, norm]
        elif c.mode == "phonetic":
            where.append("(birth_name_phon = ? OR used_name_phon = ?)")
            params += [phon, phon]
        else:
            (birth, birth_range), (used, used_range) = begins_with("birth_name_norm", norm[:2]), begins_with("used_name_norm", norm[:2])
            where.append(f"({birth} OR {used} OR birth_name_phon = ? OR used_name_phon = ?)")
            params += [*birth_range, *used_range, phon, phon]
    if c.first_name and c.mode != "approaching":
        where.append("first_name_norm = ?" if c.mode == "exact" else "first_name_phon = ?")
        params.append(normalise(c.first_name) if c.mode == "exact" else key(c.first_name))
    return _rows(db, SCORED, where, params)


def quick_approaching(db: Database, typed: quick_search.Typed) -> list[tuple[float, dict]]:
    """quick_search._approaching before migration 25."""
    where, params = quick_search._filters(typed)
    first = typed.words[0]
    clauses = [begins_with(column, first[:2]) for column in quick_search._NORM]
    sounds = [f"{column} = ?" for column in quick_search._PHON]
    where.append("(" + " OR ".join([c for c, _ in clauses] + sounds) + ")")
    params += [p for _, ps in clauses for p in ps] + [key(first)] * len(quick_search._PHON)
    found = []
    sounds = {word: key(word) for word in typed.words}
    for row in _rows(db, (*SCORED, *quick_search._PHON), where, params):
        scores = [quick_search._word_score(word, sounds[word], row) for word in typed.words]
        if all(score >= APPROACHING_THRESHOLD for score in scores):
            found.append((round(sum(scores) / len(scores), 2), row))
    return found
