"""A practice left alone (issue 15's practice mode): the nurse walked away from the cart in the
middle of it. The strip counts down the last seconds, a touch keeps the practice, and nobody
touching it brings the kiosk back to the real cart, the practice erased: the next nurse never finds
the cart in practice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.browser.kiosk import shot, sign_in
from tests.live import running_agent
from tests.loopback import eventually

pytestmark = pytest.mark.browser

IDLE_MINUTES = 0.1  # 6 s; the countdown shows from half of it


def test_an_idle_practice_counts_down_then_gives_the_cart_back(page: Page, tmp_path: Path, artifacts: Path) -> None:
    with running_agent(tmp_path, practice={"idle_minutes": IDLE_MINUTES}) as agent:
        sign_in(page, agent, agent.add_account(Role.NURSE))
        page.locator(".topbar .user").tap()
        page.locator(".practice-card").get_by_role("button", name="Commencer l'entraînement").tap()
        expect(page).to_have_url(re.compile(r"^http://practice\.localhost:\d+/#/activite$"), timeout=20_000)
        strip = page.locator(".practice-strip")
        expect(strip).to_contain_text("ENTRAÎNEMENT")

        ending = page.locator(".practice-ending")
        expect(ending).to_contain_text("l'entraînement s'arrête dans", timeout=12_000)
        expect(ending).to_contain_text("touchez l'écran pour continuer")
        shot(page, artifacts, "entrainement-fin-sans-activite.png")
        page.mouse.click(640, 500)  # a touch: the practice goes on
        expect(ending).to_be_hidden()
        expect(strip).to_be_visible()

        expect(ending).to_be_visible(timeout=12_000)  # nobody this time
        expect(page).to_have_url(re.compile(rf"^{re.escape(agent.url)}/"), timeout=15_000)
        expect(page.locator(".practice-strip")).to_have_count(0)
        eventually(lambda: not (agent.data_dir / "practice").exists() or None, what="the practice erased")
        shot(page, artifacts, "entrainement-fin-retour-au-chariot.png")
