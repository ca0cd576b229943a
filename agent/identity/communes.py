"""The French communes of INSEE's Code officiel géographique, for a birthplace: its code (a strict
trait of the INS identity) said as the name a nurse reads on an identity card, and found again
from the name she types (or a postal code).

The table (communes.tsv, made by scripts/communes_from_cog.py from the COG as Etalab publishes it)
holds today's communes, the arrondissements of Paris, Lyon and Marseille (the birthplace of
someone born there), the former communes merged into another (their own code, or the code they
were given up for): someone born in 1935 carries the code of a commune that may no longer exist.
Nothing of it stays in the agent's memory but the answers for the last codes looked up: each
lookup or search maps the file (2 MB), bisects it for a code or scans it for what was typed, and
lets it go (a lookup ~50 µs, a search ~5 ms)."""

from __future__ import annotations

import contextlib
import functools
import mmap
import re
from collections.abc import Callable, Iterator
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


@functools.lru_cache(maxsize=1024)  # a list of residents asks for the same few codes; the file never changes
def lookup(code: str) -> Birthplace | None:
    """The commune of an INSEE code, None for a code the table does not know (abroad, or older
    than the table's history)."""
    with _opened() as table:
        rows = table.rows(code.upper())
    if not rows:
        return None
    current = next((r for r in rows if r.current), None)
    named = current or rows[0]
    former = tuple(dict.fromkeys(r.name for r in rows if r.kind in (DELEGATED, ASSOCIATED) and r.name != named.name))
    return Birthplace(named, former)


def search(text: str, limit: int = 8) -> list[Commune]:
    """Communes whose name begins with what was typed (whole name first, then any of its words),
    today's and the most populated first; digits: an INSEE code or a postal code beginning so. A
    former code stands only for itself: searched by name, the commune is found under its own."""
    typed = text.strip()
    with _opened() as table:
        if re.fullmatch(r"[0-9]{2,5}|2[ABab][0-9]{0,3}", typed):
            return table.by_number(typed.upper(), limit)
        key = search_key(typed)
        return table.by_name(key, limit) if len(key) >= 2 else []


class _Table:
    """The file, mapped: sorted by code, so a code is found by bisecting its bytes; the search key
    is the last column and the postal codes the one before, so a pattern ending « no tab until the
    end of the line » can only match there and a search scans the file for a literal (~5 ms)."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self.text = mapped
        self.first = 0
        while self.text[self.first:self.first + 1] == b"#":  # the heading's lines
            self.first = self.text.find(b"\n", self.first) + 1

    def rows(self, code: str) -> list[Commune]:
        return list(self._lines_from(self._first_line_from(code.encode()), lambda line: line.code == code))

    def by_name(self, key: str, limit: int) -> list[Commune]:
        escaped = re.escape(key.encode())
        named = [c for c in self._matching(rb"\t" + escaped + rb"[^\t\n]*$") if c.kind != FORMER_CODE]
        whole = _best(named, limit)
        word = [c for c in self._matching(rb" " + escaped + rb"[^\t\n]*$") if c.kind != FORMER_CODE]
        return whole + _best([c for c in word if c not in whole], limit - len(whole))

    def by_number(self, digits: str, limit: int) -> list[Commune]:
        by_code = list(self._lines_from(self._first_line_from(digits.encode()), lambda line: line.code.startswith(digits)))
        by_post = self._matching(rb"[\t ]" + re.escape(digits.encode()) + rb"[^\t\n]*\t[^\t\n]*$")
        return _best(by_code + [c for c in by_post if c not in by_code], limit)

    def _first_line_from(self, code: bytes) -> int:
        """Where the first line whose code is `code` or after it begins."""
        low, high = self.first, len(self.text)
        while low < high:
            start = self.text.rfind(b"\n", 0, (low + high) // 2) + 1
            start = max(start, low)
            if self.text[start:start + 5] < code:
                low = self.text.find(b"\n", start) + 1 or len(self.text)
            else:
                high = start
        return low

    def _lines_from(self, start: int, wanted: Callable[[Commune], bool]) -> Iterator[Commune]:
        while start < len(self.text) and wanted(line := self._row(start)):
            yield line
            start = self.text.find(b"\n", start) + 1 or len(self.text)

    def _matching(self, pattern: bytes) -> list[Commune]:
        starts = dict.fromkeys(self.text.rfind(b"\n", 0, m.start()) + 1 for m in re.finditer(pattern, self.text, re.M))
        return [self._row(start) for start in starts]

    def _row(self, start: int) -> Commune:
        line = self.text[start:self.text.find(b"\n", start)].decode()
        code, name, department, kind, population, _postal, _key = line.split("\t")
        return Commune(code, name, department, kind, int(population or 0))


def _best(communes: list[Commune], limit: int) -> list[Commune]:
    """Today's communes before former ones, then the most populated; one line per code and name."""
    kept: dict[tuple[str, str], Commune] = {}
    for commune in sorted(communes, key=lambda c: (not c.current, -c.population, c.name)):
        kept.setdefault((commune.code, commune.name), commune)
    return list(kept.values())[:max(limit, 0)]


@contextlib.contextmanager
def _opened() -> Iterator[_Table]:
    """The table for one lookup or search: mapped, not read, and let go after, so the agent keeps
    none of it in memory (the kernel's page cache keeps the file, if it has room)."""
    with open(TABLE, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        yield _Table(mapped)
