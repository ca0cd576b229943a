"""The residents' identity search screen (seed 000 §2.2.1), as a nurse uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.kiosk import shot, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


def test_dupond_finds_dupont_by_sound_with_its_match_rate(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = demo_agent.add_account()
    sign_in(page, demo_agent, nurse)
    page.get_by_role("navigation").get_by_role("button", name="Résidents").tap()
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(10)  # the demo's residents, newest first
    expect(page.locator(".results .count")).to_have_text("10 résidents")

    page.locator("#name").fill("Dupond")
    page.get_by_role("button", name="Rechercher").tap()
    expect(page.locator(".results .count")).to_have_text("Aucun résident ne correspond à cette recherche.")  # exact

    page.locator("label.option", has_text="Phonétique").tap()
    page.get_by_role("button", name="Rechercher").tap()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_contain_text("DUPONT Marcel")
    expect(rows.first.locator("td.num")).to_have_text("83,33 %")
    expect(rows.first).to_contain_text("Qualifiée")
    ins = rows.first.locator("td.mono").inner_text()
    assert len(ins) == 15 and ins.isdigit(), ins  # a qualified identity shows its INS
    shot(page, artifacts, "residents-phonetic.png")

    page.locator("#name").fill("Rousso")
    page.locator("label.option", has_text="Approchante").tap()
    page.get_by_role("button", name="Rechercher").tap()
    expect(rows.first.locator("td").first).to_contain_text("ROUSSEAU Simone")
    expect(rows.first.locator("td").first).to_contain_text("nom de naissance : GIRARD")
    expect(rows.first).to_contain_text("Validée")
    expect(rows.first.locator("td.mono")).to_have_text("—")  # validated, not qualified: no INS shown
