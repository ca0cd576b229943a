"""The French communes of INSEE's Code officiel géographique, for a birthplace: its code (a strict
trait of the INS identity) said as the name a nurse reads on an identity card, and found again
from the name she types (or a postal code).

The table (communes.tsv, made by scripts/communes_from_cog.py from the COG as Etalab publishes it)
holds today's communes, the arrondissements of Paris, Lyon and Marseille (the birthplace of
someone born there), the former communes merged into another (their own code, or the code they
were given up for): someone born in 1935 carries the code of a commune that may no longer exist.
It is read at its first use and kept as a few strings (3 MB, not 40,000 objects): a lookup is a
binary search, a search a regular expression over the names' keys, a few milliseconds."""

from __future__ import annotations

import functools
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

from agent.identity.phonetic import strip_accents

TABLE = Path(__file__).with_name("communes.tsv")
# Columns: code, name, département, kind, population, postal codes (space separated), search key.
CURRENT, DELEGATED, ASSOCIATED, ARRONDISSEMENT, FORMER_CODE = "c", "d", "a", "r", "o"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    department: str
    kind: str
    population: int
    postal_codes: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.department})"

    @property
    def current(self) -> bool:
        """A commune of today (or an arrondissement of one), not one merged since."""
        return self.kind in (CURRENT, ARRONDISSEMENT)


@dataclass(frozen=True)
class Birthplace:
    """What a code says: today's commune, and the former names it was known by."""

    code: str
    commune: Commune
    former_names: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.commune.kind == FORMER_CODE:  # the table knows the code's commune of today, not its own name
            return f"ancienne commune, aujourd'hui {self.commune.label}"
        former = f", autrefois {' / '.join(self.former_names)}" if self.former_names else ""
        return f"{self.commune.label}{former}"


def search_key(name: str) -> str:
    """How a name is compared: lower case, no accents, words split on spaces, hyphens and
    apostrophes, « Saint » and « Sainte » as nurses abbreviate them (« st etienne »)."""
    words = re.sub(r"[^a-z0-9]+", " ", strip_accents(name).lower()).split()
    return " ".join({"saint": "st", "sainte": "ste"}.get(w, w) for w in words)


def lookup(code: str) -> Birthplace | None:
    """The commune of an INSEE code, None for a code the table does not know (abroad, or older
    than the table's history)."""
    rows = _table().rows(code.upper())
    if not rows:
        return None
    current = next((r for r in rows if r.current), None)
    named = current or rows[0]
    former = tuple(dict.fromkeys(r.name for r in rows if r.kind in (DELEGATED, ASSOCIATED) and r.name != named.name))
    return Birthplace(code.upper(), named, former)


def search(text: str, limit: int = 8) -> list[Commune]:
    """Communes whose name begins with what was typed (whole name first, then any of its words),
    today's and the most populated first; digits: an INSEE code or a postal code beginning so. A
    former code stands only for itself: searched by name, the commune is found under its own."""
    typed = text.strip()
    if re.fullmatch(r"[0-9]{2,5}|2[ABab][0-9]{0,3}", typed):
        return _table().by_number(typed.upper(), limit)
    key = search_key(typed)
    return _table().by_name(key, limit) if len(key) >= 2 else []


class _Table:
    """The file's lines in one string, with two narrower strings beside it, line for line: the
    search keys and the postal codes, which the searches scan (a regular expression over 0.5 MB)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _line_starts(text)
        lines = [line.split("\t") for line in text.splitlines()]
        self.keys = "".join(f"{cols[6]}\n" for cols in lines)
        self.key_starts = _line_starts(self.keys)
        self.postal = "".join(f"{cols[5]}\n" for cols in lines)
        self.postal_starts = _line_starts(self.postal)

    def rows(self, code: str) -> list[Commune]:
        first, last = self._code_range(code, code + "\0")
        return [self._row(i) for i in range(first, last)]

    def by_name(self, key: str, limit: int) -> list[Commune]:
        escaped = re.escape(key)
        named = [c for c in self._matching(self.keys, self.key_starts, rf"^{escaped}") if c.kind != FORMER_CODE]
        whole = _best(named, limit)
        word = [c for c in self._matching(self.keys, self.key_starts, rf" {escaped}") if c.kind != FORMER_CODE]
        return whole + _best([c for c in word if c not in whole], limit - len(whole))

    def by_number(self, digits: str, limit: int) -> list[Commune]:
        first, last = self._code_range(digits, digits + "\uffff")
        by_code = [self._row(i) for i in range(first, last)]
        by_post = self._matching(self.postal, self.postal_starts, rf"(?:^| ){re.escape(digits)}")
        return _best(by_code + [c for c in by_post if c not in by_code], limit)

    def _code_range(self, low: str, high: str) -> tuple[int, int]:
        """Lines whose code is between low and high (the file is sorted by code)."""
        def line(i: int) -> str:
            return self.text[self.starts[i]:self.starts[i] + 5]
        indexes = range(len(self.starts))
        return bisect_left(indexes, low, key=line), bisect_left(indexes, high, key=line)

    def _matching(self, text: str, starts: array[int], pattern: str) -> list[Commune]:
        found = dict.fromkeys(bisect_right(starts, m.start()) - 1 for m in re.finditer(pattern, text, re.M))
        return [self._row(i) for i in found]

    def _row(self, i: int) -> Commune:
        start = self.starts[i]
        code, name, department, kind, population, postal, _ = self.text[start:self.text.index("\n", start)].split("\t")
        return Commune(code, name, department, kind, int(population or 0), tuple(postal.split()))


def _line_starts(text: str) -> array[int]:
    return array("l", [0, *(m.end() for m in re.finditer("\n", text) if m.end() < len(text))])


def _best(communes: list[Commune], limit: int) -> list[Commune]:
    """Today's communes before former ones, then the most populated; one line per code and name."""
    kept: dict[tuple[str, str], Commune] = {}
    for commune in sorted(communes, key=lambda c: (not c.current, -c.population, c.name)):
        kept.setdefault((commune.code, commune.name), commune)
    return list(kept.values())[:max(limit, 0)]


def read() -> None:
    """The table read now (in a worker thread, say), not at the first lookup."""
    _table()


@functools.cache
def _table() -> _Table:
    lines = TABLE.read_text(encoding="utf-8").splitlines(keepends=True)
    return _Table("".join(line for line in lines if not line.startswith("#")))
