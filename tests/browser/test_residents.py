"""Finding a resident, as a nurse does: one box searched as she types, approaching and
same-sounding names when nothing begins as typed, the detailed search of seed 000 §2.2.1 one tap
away; a found resident's page with their consultations and a prefilled « Créer une
téléconsultation »; the wizard saying when that doctor is already asked for this resident."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.kiosk import shot, sign_in
from tests.browser.test_touch import check_screen
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


def residents(page: Page, agent: LiveAgent) -> None:
    sign_in(page, agent, agent.add_account())
    page.get_by_role("navigation").get_by_role("button", name="Résidents").tap()


def open_resident(page: Page, typed: str, who: str) -> None:
    page.locator("#resident-q").fill(typed)
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(who)
    rows.get_by_role("button", name="Ouvrir").tap()
    expect(page.locator(".resident-page .identity-name")).to_have_text(who)


def test_the_box_finds_as_she_types_and_by_sound_when_nothing_begins_so(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    residents(page, demo_agent)
    rows = page.locator("table.records tbody tr")
    count = page.locator(".results .count")
    expect(rows).to_have_count(10)  # the demo's residents, newest first
    expect(count).to_have_text("10 résidents")

    box = page.locator("#resident-q")
    box.press_sequentially("dup", delay=40)  # no button: the list follows the typing
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_contain_text("DUPONT Marcel")
    box.press_sequentially("ond", delay=40)  # « Dupond »: no name begins so, one sounds the same
    expect(count).to_have_text("Aucun nom ne commence par « dupond » : voici les noms approchants ou qui se prononcent de même. 1 résident")
    expect(rows.first.locator("td").first).to_contain_text("DUPONT Marcel")
    expect(rows.first).to_contain_text("Qualifiée")
    shot(page, artifacts, "residents-approaching.png")
    check_screen(page, "résidents, recherche approchante")

    box.fill("simone 21/06/1938")  # first name and birth date, in any order
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_contain_text("ROUSSEAU Simone")
    expect(rows.first.locator("td").first).to_contain_text("nom de naissance : GIRARD")
    expect(rows.first.locator("td.mono")).to_have_text("—")  # validated, not qualified: no INS shown

    box.fill("Xqzwyk")
    expect(rows).to_have_count(0)
    expect(count).to_have_text("Aucun résident ne correspond à « Xqzwyk », même en orthographe approchante ou phonétique.")
    help_ = page.locator(".search-help")
    expect(help_).to_contain_text("Vérifiez l'orthographe, cherchez par la date de naissance")
    shot(page, artifacts, "residents-nobody.png")

    # The detailed search (seed 000 §2.2.1) is one tap away, with its modes and match rate.
    help_.get_by_role("button", name="Recherche détaillée").tap()
    expect(page.locator("#name")).to_be_focused()
    page.locator("#name").fill("Dupond")
    page.locator("label.option", has_text="Phonétique").tap()
    page.get_by_role("button", name="Rechercher").tap()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.num")).to_have_text("83,33 %")
    expect(box).to_have_value("")  # one search at a time: the box does not pretend to filter too
    ins = rows.first.locator("td.mono").inner_text()
    assert len(ins) == 15 and ins.isdigit(), ins  # a qualified identity shows its INS
    shot(page, artifacts, "residents-detailed.png")


def test_a_found_resident_opens_their_consultations_and_a_prefilled_wizard(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    residents(page, demo_agent)
    page.locator("#resident-q").fill("dupont")
    row = page.locator("table.records tbody tr", has_text="DUPONT Marcel")
    row.locator("td").first.tap()  # the row itself answers the finger

    resident = page.locator(".resident-page")
    expect(resident.locator(".identity-name")).to_have_text("DUPONT Marcel")
    consultations = resident.locator("[data-consultation]")
    expect(consultations).to_have_count(1)
    expect(consultations.first).to_contain_text("Programmée")
    expect(consultations.first).to_contain_text("Dr Claire Petit — Cardiologie")
    expect(consultations.first).to_contain_text("Avis sur troubles du rythme")
    expect(page.get_by_role("navigation").get_by_role("button", name="Résidents")).to_have_attribute("aria-current", "page")
    shot(page, artifacts, "resident-page.png")
    check_screen(page, "page d'un résident")

    page.get_by_role("button", name="Créer une téléconsultation").tap()
    expect(page.locator(".stepbar li[aria-current=step]")).to_contain_text("Validation de l'identité")
    expect(page.locator(".wizard-head")).to_contain_text("Pour DUPONT Marcel, né le 02/11/1931")
    page.get_by_role("button", name="Suivant", exact=True).tap()
    page.locator("label.big-choice", has_text="Consentement recueilli").tap()
    page.get_by_role("button", name="Suivant", exact=True).tap()
    page.locator("label.big-choice", has_text="Résident seul avec l'équipe soignante").tap()
    page.get_by_role("button", name="Suivant", exact=True).tap()

    notice = page.locator(".notice.same-doctor")
    page.locator("label.big-choice", has_text="Dr Antoine Roux").tap()
    expect(notice).to_be_hidden()  # another doctor: nothing to say
    page.locator("label.big-choice", has_text="Dr Claire Petit").tap()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("DUPONT Marcel a déjà une téléconsultation avec Dr Claire Petit")
    shot(page, artifacts, "wizard-same-doctor.png")
    page.get_by_role("button", name="Suivant", exact=True).tap()
    page.locator("label.big-choice", has_text="Maintenant").tap()
    page.get_by_role("button", name="Suivant", exact=True).tap()
    expect(notice).to_contain_text("Vérifiez qu'il ne s'agit pas de la même demande")  # said again before creating

    notice.get_by_role("button", name="Voir ce télédossier").tap()
    expect(page.locator(".dossier-head")).to_contain_text("DUPONT Marcel")
    expect(page.locator("body")).to_contain_text("Avis sur troubles du rythme")


def test_a_wizard_under_way_for_another_resident_is_not_dropped_silently(page: Page, demo_agent: LiveAgent) -> None:
    residents(page, demo_agent)
    open_resident(page, "leroy", "LEROY Georges")
    page.get_by_role("button", name="Créer une téléconsultation").tap()
    expect(page.locator(".wizard-head")).to_contain_text("Pour LEROY Georges")

    page.get_by_role("navigation").get_by_role("button", name="Résidents").tap()
    open_resident(page, "mercier", "MERCIER Raymond")
    page.get_by_role("button", name="Créer une téléconsultation").tap()
    other = page.locator(".other-draft")
    expect(other).to_contain_text("La création commencée pour LEROY Georges n'est pas terminée")
    other.get_by_role("button", name="Reprendre pour LEROY Georges").tap()
    expect(page.locator(".wizard-head")).to_contain_text("Pour LEROY Georges")
    page.reload()
    expect(page.locator(".wizard-head")).to_contain_text("Pour LEROY Georges")  # a reload does not ask again

    page.get_by_role("navigation").get_by_role("button", name="Résidents").tap()
    open_resident(page, "mercier", "MERCIER Raymond")
    page.get_by_role("button", name="Créer une téléconsultation").tap()
    page.get_by_role("button", name="Commencer pour MERCIER Raymond").tap()
    expect(page.locator(".wizard-head")).to_contain_text("Pour MERCIER Raymond")
