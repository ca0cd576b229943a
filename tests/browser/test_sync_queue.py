"""The queue as the nurse sees it, in Chromium: with the regional server down, the header says how
many dossiers wait to be sent and why, and the dossier says it is not there yet; once the server
answers, the queue empties by itself and the dossier says it was sent.

The header asks every 15 s (kiosk_ui/static/js/views/sync_chip.js). The page's clock is Playwright's
(it runs as the real one): once the agent's queue is empty, the test moves it to the chip's next
look rather than waiting up to 15 s for it; the chip still hides by its own timer, not a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.browser.kiosk import shot, sign_in
from tests.live import free_port, running_agent
from tests.loopback import eventually
from tests.sync.fhir_server import fhir_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHIP_PERIOD_MS = 15_000  # PERIOD_MS of sync_chip.js


def test_the_header_shows_the_queue_while_the_server_is_down_and_empties_when_it_is_back(page: Page, tmp_path: Path,
                                                                                        artifacts: Path) -> None:
    port = free_port()
    with running_agent(tmp_path / "cart", sync={"fhir_base_url": f"http://127.0.0.1:{port}/fhir", "poll_seconds": 0.3,
                                                "max_backoff_seconds": 1}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        first, _ = teleconsultation_now(CartBase(agent), nurse, "ATTENTE", {"email": "c.petit@chu.example"})
        teleconsultation_now(CartBase(agent), nurse, "PATIENCE", {"email": "c.petit@chu.example"})
        page.clock.install()
        sign_in(page, agent, agent.add_account(Role.NURSE))
        chip = page.locator(".sync-chip")
        expect(chip).to_contain_text("2 dossiers en attente d'envoi depuis", timeout=20_000)
        expect(chip).to_contain_text("serveur injoignable : nouvel essai automatique")
        # The whole sentence on screen, why included (two lines if need be): a touchscreen shows no tooltip.
        assert chip.evaluate("e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1"), chip.text_content()
        page.goto(f"{agent.url}/#/dossier/{first['id']}")
        expect(page.locator("[data-regional]")).to_contain_text("En attente d'envoi (")
        shot(page, artifacts, "envoi-en-attente.png")

        with fhir_server(tmp_path / "fhir", port=port) as server:
            eventually(lambda: nurse.get(f"{agent.url}/api/v1/sync").json()["waiting_dossiers"] == 0, timeout=30,
                       what="the agent's queue empty")
            page.clock.fast_forward(CHIP_PERIOD_MS)
            expect(chip).to_be_hidden(timeout=40_000)  # the next look finds nothing waiting (a real 15 s at worst)
            assert server.count("Patient") == 2
            page.reload()
            expect(page.locator("[data-regional]")).to_have_text("Envoyé")
