"""Nothing typed is lost (issue 17, item 2), walked in Chromium as the nurse lost it: a reason
typed before « Entrer en salle », an observation typed before the idle lock or a reload, a reason
typed before the agent restarted. The fiche is kept as a draft while she types, saved when she
leaves the page, and its save button stays in reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, logged_in, patient
from tests.browser.kiosk import agent_in, shot, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser

UNSAVED = "Modifications non enregistrées"


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    with agent_in(tmp_path_factory.mktemp("fiche-draft"), demo=True) as agent:
        yield agent


def scheduled_now(agent: LiveAgent) -> str:
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="BRUN", first_names=["Odette"], sex="F",
                                                                 birth_date="1933-02-08", confirm_duplicate=True)).json()
    reply = nurse.post(f"{agent.url}{API}/dossiers", json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"directory_id": 1}, "slot": {"now": True}, "confirm_overlap": True})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def saved_fiche(agent: LiveAgent, dossier_id: str) -> dict:
    return logged_in(agent, agent.add_account(Role.NURSE)).get(f"{agent.url}{API}/dossiers/{dossier_id}").json()["fiche"]


def test_a_reason_typed_before_entering_the_room_reaches_the_dossier(page: Page, cart: LiveAgent) -> None:
    dossier_id = scheduled_now(cart)
    sign_in(page, cart, cart.add_account(Role.NURSE))
    page.goto(f"{cart.url}/#/dossier/{dossier_id}")
    page.get_by_label("Motif").fill("Plaie du talon, contrôle")
    expect(page.locator(".fiche-status")).to_contain_text(UNSAVED)
    page.get_by_role("button", name="Entrer en salle").tap()
    expect(page.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
    assert saved_fiche(cart, dossier_id)["reason"] == "Plaie du talon, contrôle"
    page.get_by_role("button", name="Quitter la salle").tap()


def test_what_is_typed_survives_a_reload_a_lock_and_a_restart(page: Page, cart: LiveAgent, artifacts: Path) -> None:
    dossier_id = scheduled_now(cart)
    nurse = cart.add_account(Role.NURSE)
    sign_in(page, cart, nurse)
    page.goto(f"{cart.url}/#/dossier/{dossier_id}")
    title, bar = page.locator("#fiche-title"), page.locator(".fiche-actions")
    expect(title).to_be_attached()
    heading, actions = title.bounding_box(), bar.bounding_box()
    assert heading and actions
    # Nothing to save yet: the save bar stays at the fiche's end, not over its title at the screen's bottom.
    assert heading["y"] + heading["height"] <= actions["y"] or heading["y"] >= actions["y"] + actions["height"], (heading, actions)
    page.get_by_label("Observations cliniques").fill("Plaie de 2 cm, bords nets")
    save = page.get_by_role("button", name="Enregistrer la fiche")
    expect(save).to_be_in_viewport()  # the save button stays in reach while she types
    shot(page, artifacts, "fiche-brouillon.png")
    page.wait_for_timeout(1200)  # the draft follows the typing (0.6 s after the last key)

    page.reload()
    expect(page.get_by_label("Observations cliniques")).to_have_value("Plaie de 2 cm, bords nets")
    expect(page.locator(".fiche-status")).to_contain_text("Brouillon repris")

    page.get_by_role("button", name="Verrouiller").tap()
    page.locator("#password").fill(nurse.password)
    page.locator("#otp").fill(nurse.code())
    page.get_by_role("button", name="Déverrouiller").tap()
    expect(page.get_by_label("Observations cliniques")).to_have_value("Plaie de 2 cm, bords nets")

    cart.stop()
    cart.start()  # the session is the database's: it outlives the restart too
    page.goto(f"{cart.url}/#/dossier/{dossier_id}")
    page.reload()
    expect(page.get_by_label("Observations cliniques")).to_have_value("Plaie de 2 cm, bords nets")
    assert saved_fiche(cart, dossier_id)["observations"] is None  # a draft, not yet the record

    save.tap()
    expect(page.locator(".fiche-status")).to_have_text("")
    assert saved_fiche(cart, dossier_id)["observations"] == "Plaie de 2 cm, bords nets"
    page.reload()
    expect(page.locator(".fiche-status")).to_have_text("")  # saved: no draft left to restore


def test_leaving_by_the_bar_saves_the_fiche(page: Page, cart: LiveAgent) -> None:
    dossier_id = scheduled_now(cart)
    sign_in(page, cart, cart.add_account(Role.NURSE))
    page.goto(f"{cart.url}/#/dossier/{dossier_id}")
    page.get_by_label("Antécédents").fill("Diabète de type 2")
    page.get_by_role("navigation").get_by_role("button", name="Résidents").tap()
    expect(page.locator("#toasts")).to_contain_text("Fiche enregistrée avant de quitter la page.")
    assert saved_fiche(cart, dossier_id)["history"] == "Diabète de type 2"


def test_when_the_agent_does_not_answer_the_nurse_is_told_and_the_kiosk_comes_back_by_itself(
        page: Page, cart: LiveAgent, artifacts: Path) -> None:
    """Issue 17, item 8: a message for someone standing at the cart, and retries by itself."""
    dossier_id = scheduled_now(cart)
    sign_in(page, cart, cart.add_account(Role.NURSE))
    page.goto(f"{cart.url}/#/dossier/{dossier_id}")
    page.get_by_label("Motif").fill("Chute ce matin")
    page.wait_for_timeout(1200)  # kept as a draft
    cart.stop()
    try:
        page.get_by_role("button", name="Enregistrer la fiche").tap()
        banner = page.locator(".offline-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Connexion au chariot interrompue : vos saisies sont conservées")
        shot(page, artifacts, "connexion-interrompue.png")
    finally:
        cart.start()
    expect(banner).to_be_hidden(timeout=15_000)
    expect(page.locator("#toasts")).to_contain_text("Connexion au chariot rétablie.")
    expect(page.get_by_label("Motif")).to_have_value("Chute ce matin")  # the page read again: the draft is back
