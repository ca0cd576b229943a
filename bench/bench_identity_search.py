"""Identity search over 100,000 generated French identities: the detailed form's approaching and
phonetic searches and the one-box search's fallback (approaching and same-sounding names, typed
names in any order), p50 and p95, against an exact lookup on the same indexed data (ratio),
measured at the store function (the work the store thread does per search, audit records of the
patients shown included).

Each search is timed twice in the same run, in alternating blocks: as the agent searches, and
("before") choosing its rows as it did before the names index of migration 25
(tests/unit/identity/scan_reference.py: every row sharing the first two letters or the sound).
`detail` says for how many queries both found the same residents, in the same order, at the same
rates, how many rows each read to score them (the candidates) against how many it found, and how
long choosing and reading those rows took, apart from the page, its audit records and the commit.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from types import ModuleType
from typing import Any
from unittest import mock

from agent.audit import Actor
from agent.identity import patients, quick_search
from agent.identity.phonetic import search_columns
from agent.store import transaction
from agent.store.database import connect
from bench._common import figure, percentile, scratch_dir
from tests.unit.identity import scan_reference

IDENTITIES = 100_000
QUERIES = 200
BLOCKS = 10
MODES = ("approaching", "phonetic", "one_box")

NAMES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
         "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
         "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE",
         "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA"]
SUFFIXES = ["", "", "", "ET", "IN", "EAU", "ON", "AUD", "IER", "ARD", "Y", "OT", "ELLE", "IAN", "AS"]
FIRST = ["Jeanne", "Marie", "Marcel", "Louise", "Henri", "Simone", "Germaine", "Lucien", "Yvette", "Raymond",
         "Odette", "Georges", "Suzanne", "André", "Paulette", "Roger", "Denise", "René", "Madeleine", "Pierre"]


def _populate(db: Any, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    start = date(1920, 1, 1)
    for _ in range(IDENTITIES):
        birth = rng.choice(NAMES) + rng.choice(SUFFIXES)
        first = [rng.choice(FIRST)]
        rows.append({
            "id": str(uuid.uuid4()), "birth_name": birth, "used_name": None, "first_names": json.dumps(first),
            "birth_date": (start + timedelta(days=rng.randrange(30_000))).isoformat(), "sex": rng.choice("FM"),
            "identity_status": "PROV", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            **search_columns(birth, None, first),
        })
    with transaction(db):
        db["patients"].insert_all(rows, batch_size=5000)
    return rows


def _queries(rows: list[dict[str, Any]], rng: random.Random) -> dict[str, list[Any]]:
    picks = [rng.choice(rows) for _ in range(QUERIES)]

    def typo(name: str) -> str:
        i = rng.randrange(1, len(name))
        return name[:i] + rng.choice("AEIOURST") + name[i + 1:]

    def first(p: dict[str, Any]) -> str:
        return json.loads(p["first_names"])[0]

    def any_order(*words: str) -> str:
        return " ".join(words if rng.random() < 0.5 else reversed(words))

    return {
        "exact": [patients.SearchCriteria(name=p["birth_name"], birth_date=date.fromisoformat(p["birth_date"])) for p in picks],
        "approaching": [patients.SearchCriteria(name=typo(p["birth_name"]), first_name=first(p), mode="approaching") for p in picks],
        "phonetic": [patients.SearchCriteria(name=p["birth_name"].lower().replace("PH", "F"), first_name=first(p), mode="phonetic")
                     for p in picks],
        "one_box": [quick_search.parse(any_order(typo(p["birth_name"]), first(p))) for p in picks],
    }


def _search(db: Any, mode: str, query: Any, actor: Actor) -> tuple[float, Any]:
    """(milliseconds, what was found) of one search in its own transaction, as the store thread runs it."""
    started = time.perf_counter()
    with transaction(db):
        items, total, *found_by = (quick_search.search if mode == "one_box" else patients.search)(db, query, actor)
    return (time.perf_counter() - started) * 1000, ([(item.id, item.match) for item in items], total, found_by)


def _candidates(db: Any, mode: str, query: Any, before: bool) -> tuple[int, float]:
    """How many rows the search reads from the table to score them (its candidates), and the
    milliseconds it takes to choose and read them (the one-box search: and to score them), without
    the page, its audit records and the commit."""
    started = time.perf_counter()
    if mode != "one_box":
        return len((scan_reference.candidates if before else patients._candidates)(db, query)), (time.perf_counter() - started) * 1000
    module: ModuleType = scan_reference if before else quick_search
    read: list[int] = []
    real = module._rows

    def counted(*args: Any) -> list[dict]:
        rows = real(*args)
        read.append(len(rows))
        return rows

    with mock.patch.object(module, "_rows", counted):
        (scan_reference.quick_approaching if before else quick_search._approaching)(db, query)
    return sum(read), (time.perf_counter() - started) * 1000


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3)}


def figures() -> Iterator[dict[str, Any]]:
    rng = random.Random(20261125)
    with scratch_dir("identity") as work:
        db = connect(work / "telecart.db")
        started = time.perf_counter()
        rows = _populate(db, rng)
        populate_s = time.perf_counter() - started
        actor = Actor("bench", "nurse", "127.0.0.1")
        queries = _queries(rows, rng)
        ways: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {"after": contextlib.nullcontext,
                                                                                "before": scan_reference.before}
        times: dict[tuple[str, str], list[float]] = {}
        found: dict[tuple[str, str], list[Any]] = {}
        size = QUERIES // BLOCKS
        for block in range(BLOCKS):  # noise hits both ways alike
            for way in ("after", "before") if block % 2 == 0 else ("before", "after"):
                with ways[way]():
                    for mode, asked in queries.items():
                        for query in asked[block * size:(block + 1) * size] if (mode, way) != ("exact", "before") else []:
                            ms, answer = _search(db, mode, query, actor)
                            times.setdefault((mode, way), []).append(ms)
                            found.setdefault((mode, way), []).append(answer)
        base = _spread(times[("exact", "after")])
        names = db.execute("SELECT count(*) FROM identity_names").fetchone()[0]
        for p in (50, 95):
            yield figure(f"identity_search.exact.p{p}_ms", base[f"p{p}"], "ms") | {
                "detail": {"identities": IDENTITIES, "distinct_names": names, "populate_s": round(populate_s, 1)}}
        for mode in MODES:
            same = sum(a == b for a, b in zip(found[(mode, "after")], found[(mode, "before")]))
            for way in ("after", "before"):
                read, ms = zip(*(_candidates(db, mode, query, way == "before") for query in queries[mode]))
                detail = {"same_as_before": f"{same}/{QUERIES}", "candidates": _spread(read), "candidates_ms": _spread(ms),
                          "found": _spread([answer[1] for answer in found[(mode, way)]])}
                spread = _spread(times[(mode, way)])
                for p in (50, 95):
                    name = f"identity_search.{mode}{'' if way == 'after' else '.before'}.p{p}_ms"
                    yield figure(name, spread[f"p{p}"], "ms", baseline=base[f"p{p}"]) | {"detail": detail}
        db.close()


def run() -> list[dict[str, Any]]:
    return list(figures())
