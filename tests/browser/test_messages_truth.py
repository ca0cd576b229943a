"""The truth about messages and links (issue 17, item 4), on a cart whose mail and SMS are not
configured: nothing claims a sending that is not happening; who has not received their link is
said on the activity, in the call and in « Participants »; a revoked link stops its messages and
can be replaced by « Inviter de nouveau »."""

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

NOT_CONFIGURED = "Messagerie non configurée sur le chariot"


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    with agent_in(tmp_path_factory.mktemp("truth")) as agent:  # no mail relay, no SMS gateway
        yield agent


def dossier_now(agent: LiveAgent, email: str) -> dict:
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="MERCIER", first_names=["Yvonne"], sex="F",
                                                                 birth_date="1932-04-03", confirm_duplicate=True)).json()
    reply = nurse.post(f"{agent.url}{API}/dossiers", json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": email},
        "slot": {"now": True}, "confirm_overlap": True})
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_who_has_not_received_the_link_is_said_everywhere_the_nurse_waits(page: Page, cart: LiveAgent, artifacts: Path) -> None:
    dossier = dossier_now(cart, "c.petit@chu.example")
    sign_in(page, cart, cart.add_account(Role.NURSE))
    row = page.locator(f"[data-consultation='{dossier['id']}']")
    expect(row.locator(".not-reached")).to_contain_text(f"Dr Claire PETIT n'a pas reçu le lien : e-mail en attente ({NOT_CONFIGURED})",
                                                        timeout=15_000)
    shot(page, artifacts, "activite-lien-non-recu.png")

    page.goto(f"{cart.url}/#/appel/{dossier['id']}")
    expect(page.locator(".stage .waiting")).to_contain_text("Dr Claire PETIT n'a pas reçu le lien : e-mail en attente")
    expect(page.locator(".stage .waiting")).not_to_contain_text("avec le lien reçu")
    page.get_by_role("tab", name="Participants").tap()
    invited = page.locator(".member.invited")
    expect(invited).to_contain_text("Dr Claire PETIT")
    expect(invited).to_contain_text("invité(e), pas encore arrivé(e) · lien pas reçu : e-mail en attente")
    shot(page, artifacts, "appel-lien-non-recu.png")
    page.get_by_role("button", name="Quitter la salle").tap()


def test_a_revoked_link_sends_nothing_more_and_the_person_can_be_invited_again(page: Page, cart: LiveAgent, artifacts: Path) -> None:
    dossier = dossier_now(cart, "c.petit2@chu.example")
    sign_in(page, cart, cart.add_account(Role.NURSE))
    page.goto(f"{cart.url}/#/dossier/{dossier['id']}")
    card = page.locator(f"[data-invitation='{dossier['invitations'][0]['id']}']")
    card.get_by_role("button", name="Révoquer le lien").tap()
    card.get_by_role("button", name="Toucher encore pour révoquer").tap()
    expect(card).to_contain_text("non envoyé (invitation révoquée)")
    expect(card).not_to_contain_text("nouvel essai automatique")
    card.get_by_role("button", name="Inviter de nouveau").tap()
    expect(page.locator("#toasts")).to_contain_text("Nouvelle invitation créée avec un nouveau lien")
    expect(page.locator("li.invitation")).to_have_count(2)
    expect(card).to_contain_text("Invité(e) de nouveau avec un autre lien.")
    fresh = page.locator("li.invitation:not(.revoked)")
    expect(fresh.get_by_role("button", name="Révoquer le lien")).to_be_visible()
    shot(page, artifacts, "dossier-invite-de-nouveau.png")
    nurse = logged_in(cart, cart.add_account(Role.NURSE))
    invitations = nurse.get(f"{cart.url}{API}/dossiers/{dossier['id']}").json()["invitations"]
    old, new = invitations
    assert old["revoked_at"] and all(d["state"] == "failed" for d in old["deliveries"])
    assert new["revoked_at"] is None and new["link"] != old["link"] and new["participant_id"] == old["participant_id"]
