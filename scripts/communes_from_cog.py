"""Make agent/identity/communes.tsv from the Code officiel géographique as Etalab publishes it in
the npm package @etalab/decoupage-administratif (MIT licence; the data: INSEE, Licence Ouverte).

    cd /tmp && npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf etalab-*.tgz
    python3 scripts/communes_from_cog.py /tmp/package/data/communes.json

Each former code (« anciensCodes »: a commune merged into another) that is not a delegated or
associated commune of its own becomes a line naming the commune it joined, so that a birthplace
coded before the merger still reads as a place."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.identity import communes  # noqa: E402

KINDS = {"commune-actuelle": communes.CURRENT, "arrondissement-municipal": communes.ARRONDISSEMENT,
         "commune-deleguee": communes.DELEGATED, "commune-associee": communes.ASSOCIATED}
ORDER = [communes.CURRENT, communes.ARRONDISSEMENT, communes.DELEGATED, communes.ASSOCIATED, communes.FORMER_CODE]


def rows(cog: list[dict]) -> list[tuple[str, ...]]:
    made = []
    for c in cog:
        made.append((c["code"], c["nom"], c["departement"], KINDS[c["type"]], str(c.get("population", "")),
                     " ".join(c.get("codesPostaux", []))))
    known = {c["code"] for c in cog}
    for c in cog:
        for old in c.get("anciensCodes", []):
            if old not in known:
                made.append((old, c["nom"], c["departement"], communes.FORMER_CODE, "", ""))
    made = sorted(set(made), key=lambda r: (r[0], ORDER.index(r[3]), r[1]))
    return [(*r, communes.search_key(r[1])) for r in made]


def main(source: str) -> None:
    cog = json.loads(Path(source).read_text(encoding="utf-8"))
    lines = ["# Communes of INSEE's Code officiel géographique (Licence Ouverte), from Etalab's "
             "@etalab/decoupage-administratif 6.0.0; made by scripts/communes_from_cog.py.",
             "# code\tname\tdépartement\tkind\tpopulation\tpostal codes\tsearch key"]
    lines += ["\t".join(r) for r in rows(cog)]
    communes.TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 2} lines written to {communes.TABLE}")


if __name__ == "__main__":
    main(sys.argv[1])
