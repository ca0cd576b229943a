"""The one-box resident search: what a nurse types as it comes ("dupont marie", "05/04/1937",
"Dupond 1931", an INS), searched as she types.

Each word is a name or a first name, in any order. First every word must begin one of the
resident's names (birth name, used name, first name); when nobody matches, the search falls back
to approaching spellings and same-sounding names, so that « Dupond » finds DUPONT instead of
leaving « Créer une identité » as the only way forward (how duplicate identities are made).
Dates and INS are matched exactly. The detailed search of seed 000 §2.2.1 stays in patients.search.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz
from sqlite_utils import Database

from agent.audit import Actor
from agent.identity import ins as ins_rules
from agent.identity.names import begins_with, marks, spelt_near, uses, uses_beginning
from agent.identity.patients import APPROACHING_THRESHOLD, SCORED, Identity, ranked_page
from agent.identity.phonetic import key, normalise

# Names, used names, first names: a typed word may be any of them.
_NORM = ("birth_name_norm", "used_name_norm", "first_name_norm")
_PHON = ("birth_name_phon", "used_name_phon", "first_name_phon")
_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})|(\d{2})(\d{2})(\d{4})")
_INS = re.compile(r"[1-478][0-9]{4}([0-9]{2}|2[AB])[0-9]{6,8}")  # 13 characters and more: an INS being typed
# A name that sounds like the word but is spelt otherwise: found, and ranked below close spellings.
_SAME_SOUND = APPROACHING_THRESHOLD + 10.0


@dataclass(frozen=True)
class Typed:
    """What the box held, sorted out."""

    words: tuple[str, ...] = ()  # normalised names, in the order typed
    birth_date: date | None = None
    birth_year: int | None = None
    ins: str | None = None

    def any(self) -> bool:
        return bool(self.words or self.birth_date or self.birth_year or self.ins)


def parse(text: str, today: date | None = None) -> Typed:
    """Words, a birth date (jj/mm/aaaa, jj/mm/aa, jjmmaaaa), a birth year, or an INS. A date still
    being typed ("05/04") is left out rather than guessed."""
    today = today or date.today()
    ins = ins_rules.normalise(text)
    if _INS.fullmatch(ins):
        return Typed(ins=ins)
    words: list[str] = []
    birth_date = birth_year = None
    for token in re.split(r"[\s,;]+", text.strip()):
        if m := _DATE.fullmatch(token):
            day, month, year = (int(v) for v in (m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)))
            if year < 100:  # residents are old: "37" is 1937 unless it is this century's past
                year += 2000 if year <= today.year % 100 else 1900
            try:
                birth_date = date(year, month, day)
            except ValueError:
                pass
        elif re.fullmatch(r"(19|20)\d\d", token):
            birth_year = int(token)
        elif not any(c.isdigit() for c in token) and (word := normalise(token)):
            words.append(word)
    return Typed(tuple(words), birth_date, birth_year, None)


def _filters(typed: Typed) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if typed.ins:  # the 15 characters, or the 13 of the number without its key
        where.append("ins >= ? AND ins < ?")
        params += [typed.ins, typed.ins + "\uffff"]
    if typed.birth_date:
        where.append("birth_date = ?")
        params.append(typed.birth_date.isoformat())
    if typed.birth_year:
        where.append("birth_date >= ? AND birth_date < ?")
        params += [f"{typed.birth_year}-01-01", f"{typed.birth_year + 1}-01-01"]
    return where, params


def _rows(db: Database, where: list[str], params: list[object]) -> list[dict]:
    clause = " AND ".join(where) or "1"
    cursor = db.conn.execute(f"SELECT {', '.join(SCORED)}, {', '.join(_PHON)} FROM patients WHERE {clause}", params)
    names = (*SCORED, *_PHON)
    return [dict(zip(names, values)) for values in cursor]


def _beginning(db: Database, typed: Typed) -> list[tuple[float, dict]]:
    """Every word begins one of the names. Rated 100 when the word is the whole name, else by how
    much of the name was typed: « DUPONT » before « DUPONTEL » for "dupont". The rows are read
    through the names beginning as the word that begins fewest of them does."""
    where, params = _filters(typed)
    indexed = _read_through(typed.words, lambda word: uses_beginning(db, word))
    for word in typed.words:
        clauses = [begins_with(f"{'' if word in indexed else '+'}{column}", word) for column in _NORM]
        where.append("(" + " OR ".join(c for c, _ in clauses) + ")")
        params += [p for _, ps in clauses for p in ps]
    found = []
    for row in _rows(db, where, params):
        scores = [max(100.0 * len(word) / len(row[c]) for c in _NORM if row[c] and row[c].startswith(word)) for word in typed.words]
        found.append((round(sum(scores) / len(scores), 2) if scores else 100.0, row))
    return found


def _read_through(words: tuple[str, ...], uses: Callable[[str], int]) -> set[str]:
    """The word whose rows SQLite reads, the others filtering them: the one the fewest names of the
    identities begin with or are near, by `uses` (without statistics, SQLite cannot tell)."""
    distinct = list(dict.fromkeys(words))
    return {min(distinct, key=uses)} if len(distinct) > 1 else set(distinct)


def _word_score(word: str, sound: str, row: dict) -> float:
    """How near the word is to the nearest of the names: its spelling (as typed so far: "DUPN" is
    near "DUPO…"), or the full mark of a name that sounds the same (`sound`: the word's key)."""
    best = 0.0
    for norm, phon in zip(_NORM, _PHON):
        name = row[norm]
        if not name:
            continue
        best = max(best, fuzz.ratio(word, name), fuzz.ratio(word, name[:len(word)]) if len(word) >= 4 else 0.0)
        if sound and sound == row[phon]:
            best = max(best, _SAME_SOUND)
    return best


def _approaching(db: Database, typed: Typed) -> list[tuple[float, dict]]:
    """Each word spelt nearly as one of the names, or sounding the same. The candidates hold a name
    that begins as the first word does or sounds like it, as they always did; of them, only the rows
    holding a name near each word are read (names.py), through the indexes of the names near the
    word the identities hold least often. `+` keeps SQLite from reading the rows by the other rules."""
    where, params = _filters(typed)
    first = typed.words[0]
    clauses = [begins_with(f"+{column}", first[:2]) for column in _NORM]
    same_sound = [f"+{column} = ?" for column in _PHON]
    where.append("(" + " OR ".join([c for c, _ in clauses] + same_sound) + ")")
    params += [p for _, ps in clauses for p in ps] + [key(first)] * len(_PHON)
    sounds = {word: key(word) for word in typed.words}
    near = {word: (sorted(spelt_near(db, word, APPROACHING_THRESHOLD, as_typed=True)), sound) for word, sound in sounds.items()}
    indexed = _read_through(typed.words, lambda word: uses(db, *near[word]))
    for word, (spelt, sound) in near.items():
        plus = "" if word in indexed else "+"
        branches = [f"{plus}{column} IN ({marks(spelt)})" for column in _NORM]
        branches += [f"{plus}{column} = ?" for column in _PHON] if sound else []
        where.append("(" + " OR ".join(branches) + ")")
        params += 3 * spelt + ([sound] * len(_PHON) if sound else [])
    found = []
    for row in _rows(db, where, params):
        scores = [_word_score(word, sounds[word], row) for word in typed.words]
        if all(score >= APPROACHING_THRESHOLD for score in scores):
            found.append((round(sum(scores) / len(scores), 2), row))
    return found


def search(db: Database, typed: Typed, actor: Actor, limit: int = 50, offset: int = 0) -> tuple[list[Identity], int, str]:
    """(the page asked for, total, how it was found: "exact" or "approaching")."""
    found = _beginning(db, typed)
    mode = "exact"
    if not found and typed.words:
        found, mode = _approaching(db, typed), "approaching"
    label = "une saisie" if mode == "exact" else "une saisie, approchante ou phonétique"
    items, total = ranked_page(db, found, actor, limit, offset, f"recherche en {label}")
    return items, total, mode
