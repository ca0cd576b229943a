"""The names the identities hold, each once (`identity_names`, kept by triggers: migration 25), and
which of them are spelt near a word.

Approaching search used to read every row whose name shares the word's first two letters or its
sound, thousands in a regional directory, and score each in Python. Whether a row passes depends
only on its names, and 100,000 identities hold a few hundred to some tens of thousands of distinct
names: rapidfuzz scores them all in C++ (about 50 ns a name), and the rows holding a near name are
then read through the patients' indexes (patients.py, quick_search.py) and scored as they always
were, so the same rows come back at the same rates. All the names are scored, not only those
sharing the two letters: a row is a candidate when one of its names shares them, while its rate may
come from another of its names (a used name, a first name).

The list is held in memory, one per open database, and brought up to date at each search from the
table's entries newer than the last one read: entries are never removed, and an entry's `tag`
tells it apart from one that a rolled-back transaction had under the same id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq
from sqlite_utils import Database

# rapidfuzz's cut-off may round differently from fuzz.ratio at the threshold itself: take a little
# more here, the rows found are scored by fuzz.ratio as they always were.
_SLACK = 0.5


@dataclass
class _Held:
    names: list[str] = field(default_factory=list)
    last: tuple[int, int] | None = None  # (id, tag) of the newest entry read


_HELD: WeakKeyDictionary[Database, _Held] = WeakKeyDictionary()


def _names(db: Database) -> list[str]:
    held = _HELD.setdefault(db, _Held())
    newest = db.execute("SELECT id, tag FROM identity_names ORDER BY id DESC LIMIT 1").fetchone()
    if newest != held.last:
        if held.last is not None and db.execute("SELECT 1 FROM identity_names WHERE id = ? AND tag = ?", held.last).fetchone() is None:
            held.names, held.last = [], None  # what was read is not all there any more: read it all again
        rows = db.execute("SELECT id, tag, name FROM identity_names WHERE id > ? ORDER BY id", [held.last[0] if held.last else 0])
        for id_, tag, name in rows:
            held.names.append(name)
            held.last = (id_, tag)
    return held.names


def spelt_near(db: Database, word: str, threshold: float, as_typed: bool = False) -> set[str]:
    """The names held whose `fuzz.ratio` to `word` (normalised) reaches `threshold`; with
    `as_typed`, also those whose first len(word) letters do, for a word of 4 letters or more (a name
    being typed: "DUPN" is near "DUPONT"). Includes "" when the word is "" (a name without letters)."""
    names = _names(db)
    near = {name for name, _, _ in process.extract(word, names, scorer=fuzz.ratio, score_cutoff=threshold - _SLACK, limit=None)}
    if as_typed and len(word) >= 4:
        # ratio(word, name[:n]) >= t needs t% of the word's n letters in the name, in order.
        needed = math.ceil(threshold * len(word) / 100 - 1e-9)
        begun = process.extract(word, names, scorer=LCSseq.similarity, score_cutoff=needed, limit=None)
        near.update(name for name, _, _ in begun if fuzz.ratio(word, name[:len(word)]) >= threshold)
    if fuzz.ratio(word, "") >= threshold:
        near.add("")
    return near


def uses(db: Database, names: Iterable[str], sound: str) -> int:
    """How many names of the identities are among `names` or sound like `sound` ("": none) (a row
    may count twice): what reading the rows that hold one of them costs."""
    names = list(names)
    return db.execute(f"SELECT coalesce(sum(uses), 0) FROM identity_names WHERE name IN ({marks(names)}) OR phon = ?",
                      [*names, sound or None]).fetchone()[0]


def uses_beginning(db: Database, start: str) -> int:
    """How many names of the identities begin with `start`."""
    clause, params = begins_with("name", start)
    return db.execute(f"SELECT coalesce(sum(uses), 0) FROM identity_names WHERE {clause}", params).fetchone()[0]


def begins_with(column: str, start: str) -> tuple[str, list[str]]:
    """A clause for rows whose `column` begins with `start`, and its parameters: a range, not LIKE
    'xy%', because SQLite serves ranges (and ORs of them) from the column's index."""
    if not start:
        return f"({column} IS NOT NULL)", []
    return f"({column} >= ? AND {column} < ?)", [start, start[:-1] + chr(ord(start[-1]) + 1)]


def marks(values: list[str]) -> str:
    """The placeholders of an IN list of `values`."""
    return ", ".join("?" for _ in values)
