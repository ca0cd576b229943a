"""agent/identity/communes.py on the real table: a birthplace's code said as its commune, and found
from what a nurse types."""

from __future__ import annotations

from agent.identity import communes


def labels(found: list[communes.Commune]) -> list[str]:
    return [f"{c.label} {c.code}" for c in found]


def test_a_code_reads_as_the_commune_of_today_with_the_names_it_had() -> None:
    assert communes.lookup("69123").label == "Lyon (69)"
    assert communes.lookup("2a004").label == "Ajaccio (2A)"  # Corsica's codes, typed in lower case
    assert communes.lookup("75115").label == "Paris 15e Arrondissement (75)"
    assert communes.lookup("01015").label == "Arboys en Bugey (01), autrefois Arbignieu"
    # A code given up in a merger, which the table knows only by the commune it joined.
    assert communes.lookup("01003").label == "ancienne commune, aujourd'hui Francheleins (01)"
    assert communes.lookup("98799") is None and communes.lookup("7505") is None


def test_a_name_is_found_however_it_is_typed() -> None:
    for typed in ("st etienne", "Saint-Étienne", "SAINT ETIENNE", "saint-etienne"):
        assert labels(communes.search(typed))[0] == "Saint-Étienne (42) 42218", typed
    assert labels(communes.search("etienne"))[0] == "Saint-Étienne (42) 42218"  # a word of the name
    assert labels(communes.search("lyon"))[0] == "Lyon (69) 69123"  # before its arrondissements: the most populated
    assert labels(communes.search("l'abergement-c")) == ["L'Abergement-Clémenciat (01) 01001"]
    assert len(communes.search("sain", limit=5)) == 5
    assert communes.search("x") == [] and communes.search("  ") == []


def test_digits_are_an_insee_or_a_postal_code() -> None:
    assert "Lyon 3e Arrondissement (69) 69383" in labels(communes.search("69003"))  # postal code of Lyon 3e
    assert labels(communes.search("69123"))[0] == "Lyon (69) 69123"
    assert labels(communes.search("2A004")) == ["Ajaccio (2A) 2A004"]


def test_a_merged_communes_own_name_finds_its_code_and_a_former_code_is_not_a_name() -> None:
    [arbignieu] = communes.search("arbignieu")
    assert (arbignieu.code, arbignieu.current) == ("01015", False)
    assert [c.code for c in communes.search("francheleins")] == ["01165"]  # not 01003 again under its new name


def test_the_table_is_sorted_by_code_as_the_lookups_need() -> None:
    codes = [line[:5] for line in communes.TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert codes == sorted(codes) and len(codes) > 39_000
