"""The CPS card at the kiosk, as a nurse uses it in Chromium: the login screen says to insert the
card; a card in, her name and a PIN pad; four taps and « Valider », the activity view; the card
pulled out, the lock screen at once; back in, her PIN alone. A wrong PIN says how many tries
remain and the last one asks for her explicit choice; a bank card is said not to be a CPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, logged_in
from tests.browser.kiosk import open_kiosk, shot, sign_in
from tests.browser.test_touch import check_screen
from tests.card.harness import ANTOINE, CLAIRE, NADIA, PIN, CardDeck, card_agent
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, deck: CardDeck) -> Iterator[LiveAgent]:
    with card_agent(tmp_path_factory.mktemp("card-kiosk"), deck) as agent:
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        for holder in (CLAIRE, ANTOINE):
            nurse = agent.add_account(Role.NURSE)
            assert admin.put(f"{agent.url}{API}/accounts/{nurse.login}/card", json={"rpps": holder.rpps}).status_code == 200
        yield agent


@pytest.fixture(autouse=True)
def no_card_left(deck: CardDeck) -> Iterator[None]:
    yield
    deck.pull()


def tap_pin(page: Page, pin: str) -> None:
    for digit in pin:
        page.locator(".keypad").get_by_role("button", name=digit, exact=True).tap()


def test_card_in_pin_tapped_card_out_locked_card_back_pin_again(page: Page, agent: LiveAgent, deck: CardDeck, artifacts: Path) -> None:
    open_kiosk(page, agent)
    status = page.locator(".card-status")
    expect(status).to_have_text("Insérez votre carte CPS.")
    expect(page.locator("#login")).to_be_visible()  # the password way stays there

    deck.insert(CLAIRE)
    pad = page.locator(".pin-pad")
    expect(pad.locator(".card-holder")).to_have_text("Carte CPS de Claire PETIT (Médecin)")
    expect(page.locator("#pin-tries")).to_have_text("3 essais avant le blocage de la carte.")
    expect(page.locator("#login")).to_be_hidden()  # the pad takes the form's place
    shot(page, artifacts, "carte-code-porteur.png")
    check_screen(page, "connexion par carte, code porteur")
    tap_pin(page, PIN)
    expect(page.locator("#pin")).to_have_value(PIN)
    pad.get_by_role("button", name="Valider").tap()
    expect(page.locator(".topbar .user .name")).to_be_visible()
    name = page.locator(".topbar .user .name").inner_text()

    deck.pull()  # she walks away with her card: the screen locks by itself
    expect(page.locator(".gate.locked")).to_be_visible(timeout=3000)
    expect(page.locator(".gate.locked .lead")).to_contain_text(name)
    expect(page.locator(".card-status")).to_contain_text("Insérez votre carte CPS")
    shot(page, artifacts, "carte-retiree-verrouille.png")

    deck.insert(CLAIRE)
    expect(page.locator(".pin-pad .card-holder")).to_have_text("Carte CPS de Claire PETIT (Médecin)")
    page.locator("#pin").fill(PIN)  # a keyboard works too
    page.locator("#pin").press("Enter")
    expect(page.locator(".topbar .user .name")).to_have_text(name)
    expect(page.locator(".gate")).to_have_count(0)


def test_wrong_pins_say_what_is_left_and_the_last_asks_for_a_choice(page: Page, agent: LiveAgent, deck: CardDeck, artifacts: Path) -> None:
    open_kiosk(page, agent)
    deck.insert(ANTOINE)
    pad = page.locator(".pin-pad")
    expect(pad.locator(".card-holder")).to_have_text("Carte CPS de Antoine ROUX (Médecin)")
    for wrong, left in (("0000", "2 essais"), ("1111", "Dernier essai")):
        tap_pin(page, wrong)
        pad.get_by_role("button", name="Valider").tap()
        expect(page.locator("#pin-tries")).to_contain_text(left)
        expect(page.locator("#pin")).to_have_value("")
    expect(pad.get_by_role("alert")).to_contain_text("Il ne reste qu'un essai")
    confirm = pad.get_by_role("button", name="Je confirme mon code (dernier essai)")
    expect(confirm).to_be_visible()
    tap_pin(page, PIN)
    pad.get_by_role("button", name="Valider").tap()  # « Valider » alone does not spend the last try
    expect(pad.get_by_role("alert")).to_contain_text("Vérifiez votre code, puis confirmez")
    assert requests.get(f"{agent.url}{API}/card").json()["tries_left"] == 1
    shot(page, artifacts, "carte-dernier-essai.png")
    check_screen(page, "connexion par carte, dernier essai")
    confirm.tap()
    expect(page.locator(".topbar .user .name")).to_be_visible()  # the right PIN, chosen: in, and the count starts again
    assert requests.get(f"{agent.url}{API}/card").json()["tries_left"] == 3


def test_a_bank_card_is_said_not_to_be_a_cps(page: Page, agent: LiveAgent, deck: CardDeck, artifacts: Path) -> None:
    open_kiosk(page, agent)
    deck.insert_bank_card()
    expect(page.locator(".card-status")).to_have_text(
        "Cette carte n'est pas une carte CPS : insérez votre carte de professionnel de santé.")
    expect(page.locator("#login")).to_be_visible()
    shot(page, artifacts, "carte-pas-cps.png")


def test_the_admin_links_a_card_on_the_accounts_page_and_it_logs_in(page: Page, agent: LiveAgent, deck: CardDeck,
                                                                     artifacts: Path) -> None:
    nurse = agent.add_account(Role.NURSE)
    sign_in(page, agent, agent.add_account(Role.ADMIN))
    page.get_by_role("button", name="Comptes").tap()
    row = page.locator(f"tr[data-account='{nurse.login}']")
    row.get_by_role("button", name="Lier une carte CPS").tap()
    page.locator("#account-rpps").fill("123")
    page.get_by_role("button", name="Enregistrer").tap()
    expect(page.locator(".account-panel [role=alert]")).to_have_text("Le numéro RPPS compte 11 chiffres : recopiez-le depuis la carte.")
    page.locator("#account-rpps").fill(NADIA.rpps)
    shot(page, artifacts, "comptes-carte-cps.png")
    page.get_by_role("button", name="Enregistrer").tap()
    expect(row).to_contain_text(f"Carte CPS : RPPS {NADIA.rpps}")

    page.get_by_role("button", name="Se déconnecter").tap()
    deck.insert(NADIA)
    expect(page.locator(".pin-pad .card-holder")).to_have_text("Carte CPS de Nadia MERCIER (Infirmier)")
    tap_pin(page, PIN)
    page.locator(".pin-pad").get_by_role("button", name="Valider").tap()
    expect(page.locator(".topbar .user .name")).to_have_text(f"Test {nurse.login}")


def test_her_card_left_in_the_reader_unlocks_the_lock_with_her_pin_alone(page: Page, agent: LiveAgent, deck: CardDeck) -> None:
    open_kiosk(page, agent)
    deck.insert(CLAIRE)
    tap_pin(page, PIN)
    page.locator(".pin-pad").get_by_role("button", name="Valider").tap()
    name = page.locator(".topbar .user .name")
    expect(name).to_be_visible()
    who = name.inner_text()
    page.get_by_role("button", name="Verrouiller").tap()  # a break; her card stays in the reader
    expect(page.locator(".gate.locked .pin-pad .card-holder")).to_have_text("Carte CPS de Claire PETIT (Médecin)")
    expect(page.locator("#password")).to_be_hidden()  # no password to type: the PIN alone
    tap_pin(page, PIN)
    page.locator(".pin-pad").get_by_role("button", name="Valider").tap()
    expect(name).to_have_text(who)
