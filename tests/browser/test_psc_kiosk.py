"""« Se connecter avec Pro Santé Connect » at the kiosk, in Chromium, against the loopback OpenID
provider (tests/psc/provider.py): the provider's page (approved at once, as the e-CPS app would on
the phone), back to the cart logged in; a refused answer is a French page with the way back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, CartBase, logged_in, teleconsultation_now
from tests.browser.kiosk import open_kiosk, shot
from tests.browser.test_touch import check_screen
from tests.live import LiveAgent
from tests.psc.provider import Person, Provider, psc_stack

pytestmark = pytest.mark.browser
CLAIRE = Person("899700123456", "Claire", "PETIT")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, Provider]]:
    with psc_stack(tmp_path_factory.mktemp("psc-kiosk")) as running:
        yield running


def test_the_e_cps_brings_the_doctor_back_logged_in(page: Page, stack: tuple[LiveAgent, Provider], artifacts: Path) -> None:
    agent, provider = stack
    admin = logged_in(agent, agent.add_account(Role.ADMIN))
    doctor = agent.add_account(Role.DOCTOR)
    assert admin.put(f"{agent.url}{API}/accounts/{doctor.login}/card", json={"rpps": CLAIRE.idnat[1:]}).status_code == 200
    provider.approve_as = CLAIRE
    open_kiosk(page, agent)
    button = page.get_by_role("button", name="Pro Santé Connect (e-CPS)")
    expect(button).to_be_visible()
    check_screen(page, "connexion, Pro Santé Connect")
    shot(page, artifacts, "connexion-psc.png")
    button.tap()
    expect(page.locator(".topbar .user .name")).to_have_text(f"Test {doctor.login}")
    assert page.url.startswith(agent.url)


def test_a_refused_answer_is_a_french_page_with_the_way_back(page: Page, stack: tuple[LiveAgent, Provider], artifacts: Path) -> None:
    agent, provider = stack
    provider.approve_as = Person("899700999222", "Inconnu", "SANSCOMPTE")
    open_kiosk(page, agent)
    page.get_by_role("button", name="Pro Santé Connect (e-CPS)").tap()
    refused = page.get_by_role("alert")
    expect(refused).to_contain_text("Inconnu SANSCOMPTE (RPPS 99700999222) n'a pas de compte actif sur ce chariot")
    shot(page, artifacts, "connexion-psc-refusee.png")
    page.get_by_role("link", name="Revenir à l'écran de connexion").tap()
    expect(page.locator("#login")).to_be_visible()
    assert requests.get(f"{agent.url}{API}/session").status_code == 401


def test_on_a_phone_the_doctor_opens_the_dossier_with_psc(browser: Browser, stack: tuple[LiveAgent, Provider], artifacts: Path) -> None:
    agent, provider = stack
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    reached = {"email": "claire.petit@chu.example", "rpps": CLAIRE.idnat[1:]}
    dossier, _ = teleconsultation_now(CartBase(agent), nurse, "TELEPHONE", reached)
    provider.approve_as = CLAIRE
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        phone = context.new_page()
        phone.goto(dossier["invitations"][0]["link"])
        psc_button = phone.get_by_role("button", name="Ouvrir avec Pro Santé Connect (e-CPS)")
        expect(psc_button).to_be_visible()
        shot(phone, artifacts, "specialiste-psc.png")
        check_screen(phone, "accès au télédossier, Pro Santé Connect, téléphone")
        psc_button.tap()
        expect(phone.get_by_role("heading", name=re.compile(r"^TELEPHONE"))).to_be_visible()
        phone.locator("#opinion").fill("Avis après Pro Santé Connect.")
        phone.get_by_role("button", name="Enregistrer").tap()
        expect(phone.get_by_text("Avis enregistré.")).to_be_visible()
    finally:
        context.close()
