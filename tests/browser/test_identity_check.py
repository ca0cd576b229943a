"""The identity check with « Modifier » (seed 000 §2.2.1), as a nurse uses it at the cart: from a
dossier, she completes a resident's civility, address and contacts (so that « Envoyer au résident »
can work), and finds a qualified identity's strict traits shown but closed to change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, audit_items, logged_in
from tests.browser.kiosk import VIEWPORT, shot, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


def demo_dossier_of(agent: LiveAgent, display_name: str) -> tuple[str, str]:
    """(dossier id, patient id) of the demo's consultation of `display_name`."""
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    items = nurse.get(f"{agent.url}{API}/dossiers").json()["items"]
    found = next(d for d in items if d["patient_name"] == display_name)
    return found["id"], found["patient_id"]


def test_the_nurse_completes_a_residents_contacts_from_the_dossier(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    dossier_id, patient_id = demo_dossier_of(demo_agent, "ROUSSEAU Simone")  # a validated identity
    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    page.goto(f"{demo_agent.url}/#/dossier/{dossier_id}")
    page.get_by_role("button", name="Identité et coordonnées").tap()
    card = page.locator(".identity-card")
    expect(card).to_contain_text("GIRARD")  # birth name
    expect(card).to_contain_text("Saint-Étienne (42) · INSEE 42218")  # the birthplace as her identity card says it
    expect(card.locator(".badge")).to_have_text("Validée")

    page.get_by_role("button", name="Modifier").tap()
    form = page.locator("form.identity-form")
    expect(form.locator("#new-birth_name")).to_have_value("GIRARD")
    expect(form.locator("#new-birth_commune")).to_have_value("Saint-Étienne (42)")
    expect(form.locator(".locked-traits")).to_have_count(0)  # a validated identity is the establishment's to correct
    form.get_by_text("Madame", exact=True).tap()
    form.locator("#new-address_line").fill("3 allée des Tilleuls")
    form.locator("#new-postal_code").fill("69003")
    form.locator("#new-city").fill("Lyon")
    form.locator("#new-email").fill("s.rousseau@example.org")
    form.locator("#new-mobile").fill("06 12 34 56 78")
    shot(page, artifacts, "identite-modifier.png")
    page.get_by_role("button", name="Enregistrer les modifications").tap()

    expect(card).to_contain_text("Mme ROUSSEAU Simone")
    expect(card).to_contain_text("3 allée des Tilleuls, 69003 Lyon")
    expect(card).to_contain_text("s.rousseau@example.org")
    expect(card).to_contain_text("06 12 34 56 78")
    shot(page, artifacts, "identite-verifiee.png")
    page.get_by_role("button", name="Retour").tap()
    expect(page).to_have_url(f"{demo_agent.url}/#/dossier/{dossier_id}")

    stored = logged_in(demo_agent, demo_agent.add_account(Role.NURSE)).get(f"{demo_agent.url}{API}/patients/{patient_id}").json()
    assert (stored["civility"], stored["city"], stored["identity_status"], stored["birth_name"]) == ("Mme", "Lyon", "VALI", "GIRARD")
    admin = logged_in(demo_agent, demo_agent.add_account(Role.ADMIN))
    [update] = [r for r in audit_items(demo_agent, admin, patient_id=patient_id) if r["action"] == "patient.update"]
    assert update["actor"] == nurse.login
    assert update["detail"] == "address_line, city, civility, email, mobile, postal_code"  # only what changed


def test_a_qualified_identitys_strict_traits_are_shown_not_changed(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    dossier_id, patient_id = demo_dossier_of(demo_agent, "DUPONT Marcel")  # qualified by the INSi teleservice
    sign_in(page, demo_agent, demo_agent.add_account(Role.NURSE))
    page.goto(f"{demo_agent.url}/#/identite/{patient_id}/{dossier_id}")
    page.get_by_role("button", name="Modifier").tap()
    form = page.locator("form.identity-form")
    expect(form.locator(".locked-traits")).to_contain_text("nouvelle qualification")
    for trait in ("birth_name", "first_name", "birth_date", "ins", "birth_commune"):
        expect(form.locator(f"#new-{trait}")).not_to_be_editable()
    expect(form.locator("fieldset.sex input").first).to_be_disabled()  # inside a disabled fieldset
    form.locator("#new-birth_commune").tap()  # read-only: no list of communes to pick another from
    expect(form.locator("#new-birth_commune")).to_have_value("Lyon 3e Arrondissement (69)")
    expect(form.locator(".commune-choices")).to_be_hidden()
    expect(form.locator("#new-document-checked")).to_have_count(0)
    form.locator("#new-used_name").fill("LEGRAND")
    shot(page, artifacts, "identite-qualifiee.png")
    page.get_by_role("button", name="Enregistrer les modifications").tap()
    expect(page.locator(".identity-card")).to_contain_text("LEGRAND Marcel")
    expect(page.locator(".identity-card .badge")).to_have_text("Qualifiée")

    # The API holds the rule whatever the screen: the birth name of a qualified identity stays.
    nurse = logged_in(demo_agent, demo_agent.add_account(Role.NURSE))
    refused = nurse.patch(f"{demo_agent.url}{API}/patients/{patient_id}", json={"birth_name": "DUPOND"})
    assert refused.status_code == 409 and refused.json()["error"] == "identity_traits_locked"
    assert "nom de naissance" in refused.json()["message"]


SHOWN = "(el) => Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').get.call(el)"


def test_dates_read_day_month_year_even_in_an_english_browser(browser: Browser, demo_agent: LiveAgent) -> None:
    """Issue 17, item 7: the date fields showed mm/dd/yyyy; they read jj/mm/aaaa whatever the
    browser's language, and take what the nurse types in that order."""
    context = browser.new_context(viewport=VIEWPORT, has_touch=True, locale="en-US", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        dossier_id, patient_id = demo_dossier_of(demo_agent, "ROUSSEAU Simone")
        sign_in(page, demo_agent, demo_agent.add_account(Role.NURSE))
        page.goto(f"{demo_agent.url}/#/identite/{patient_id}/{dossier_id}")
        page.get_by_role("button", name="Modifier").tap()
        born = page.locator("#new-birth_date")
        expect(born).to_have_attribute("placeholder", "jj/mm/aaaa")
        assert born.evaluate(SHOWN) == "21/06/1938"
        born.fill("")
        born.press_sequentially("05041937")
        assert born.evaluate(SHOWN) == "05/04/1937"
        today = date.today()
        age = today.year - 1937 - ((today.month, today.day) < (4, 5))
        expect(page.locator(".birth-date .said")).to_have_text(f"5 avril 1937 ({age} ans)")
        page.get_by_role("button", name="Annuler").tap()  # nothing saved
        expect(page.locator(".identity-card")).to_contain_text("21/06/1938")
    finally:
        context.close()
