"""No authenticator app at hand: the nurse asks for her login code by SMS at the kiosk, after an
admin gave her account its mobile on the accounts page; the code comes through the real SMS
gateway on loopback and logs her in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import agent_with_messages
from tests.browser.kiosk import open_kiosk, shot, sign_in
from tests.browser.test_touch import check_screen
from tests.live import LiveAgent
from tests.loopback import SmsGateway, eventually

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def messaging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, SmsGateway]]:
    with agent_with_messages(tmp_path_factory.mktemp("login-code"), dossiers={"establishment": "EHPAD Les Tilleuls"}) as (agent, _, sms):
        yield agent, sms


def test_the_admin_gives_a_mobile_and_the_nurse_logs_in_with_a_code_by_sms(page: Page, messaging: tuple[LiveAgent, SmsGateway],
                                                                         artifacts: Path) -> None:
    agent, sms = messaging
    nurse = agent.add_account(Role.NURSE)
    sign_in(page, agent, agent.add_account(Role.ADMIN))
    page.get_by_role("button", name="Comptes").tap()
    row = page.locator(f"tr[data-account='{nurse.login}']")
    expect(row).to_contain_text("Code : application")
    row.get_by_role("button", name="Portable et e-mail").tap()
    page.locator("#account-mobile").fill("06 12 34 00 88")
    page.get_by_role("button", name="Enregistrer").tap()
    expect(row).to_contain_text("Code : application, SMS")
    page.get_by_role("button", name="Se déconnecter").tap()

    open_kiosk(page, agent)
    page.get_by_role("button", name="Par SMS").tap()  # nothing typed yet: said what comes first
    expect(page.locator(".gate-main form [role=alert]")).to_have_text(
        "Saisissez d'abord votre identifiant et votre mot de passe, puis choisissez où recevoir le code.")
    page.locator("#login").fill(nurse.login)
    page.locator("#password").fill(nurse.password)
    page.get_by_role("button", name="Par SMS").tap()
    expect(page.locator(".code-sent")).to_have_text("Code envoyé par SMS à +33 6 •• •• •• 88. Il expire dans 10 minutes.")
    expect(page.locator("#otp")).to_be_focused()
    shot(page, artifacts, "connexion-code-sms.png")
    check_screen(page, "connexion, code par SMS")
    text = eventually(lambda: [t["text"] for t in sms.texts if t["to"] == "+33612340088"])[-1]
    page.locator("#otp").fill(re.search(r"\b(\d{6})\b", text).group(1))  # type: ignore[union-attr]
    page.get_by_role("button", name="Se connecter", exact=True).tap()
    expect(page.locator(".topbar .user .name")).to_have_text(f"Test {nurse.login}")
