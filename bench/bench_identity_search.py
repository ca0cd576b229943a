"""Identity search over 100,000 generated French identities: approaching and phonetic search
(p50, p95) against an exact lookup on the same indexed data (ratio), measured at the store
function (the work the store thread does per search, audit records of the patients shown included).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from agent.audit import Actor
from agent.identity import patients
from agent.store import transaction
from agent.store.database import connect
from agent.store.migrations.m0002_identity_search import search_columns
from bench._common import figure, percentile, scratch_dir

IDENTITIES = 100_000
QUERIES = 200

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


def _timings(db: Any, criteria: list[patients.SearchCriteria], actor: Actor) -> list[float]:
    out = []
    for c in criteria:
        started = time.perf_counter()
        with transaction(db):
            patients.search(db, c, actor)
        out.append((time.perf_counter() - started) * 1000)
    return out


def figures() -> Iterator[dict[str, Any]]:
    rng = random.Random(20261125)
    with scratch_dir("identity") as work:
        db = connect(work / "telecart.db")
        rows = _populate(db, rng)
        actor = Actor("bench", "nurse", "127.0.0.1")
        picks = [rng.choice(rows) for _ in range(QUERIES)]

        def typo(name: str) -> str:
            i = rng.randrange(1, len(name))
            return name[:i] + rng.choice("AEIOURST") + name[i + 1:]

        exact = [patients.SearchCriteria(name=p["birth_name"], birth_date=date.fromisoformat(p["birth_date"])) for p in picks]
        approaching = [patients.SearchCriteria(name=typo(p["birth_name"]), first_name=json.loads(p["first_names"])[0],
                                               mode="approaching") for p in picks]
        phonetic = [patients.SearchCriteria(name=p["birth_name"].lower().replace("PH", "F"), first_name=json.loads(p["first_names"])[0],
                                            mode="phonetic") for p in picks]
        base = _timings(db, exact, actor)
        for mode, timings in (("approaching", _timings(db, approaching, actor)), ("phonetic", _timings(db, phonetic, actor))):
            for p in (50, 95):
                yield figure(f"identity_search.{mode}.p{p}_ms", percentile(timings, p), "ms", baseline=percentile(base, p))
        db.close()


def run() -> list[dict[str, Any]]:
    return list(figures())
