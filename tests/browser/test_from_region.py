"""What the region wrote, as the nurse reads it in Chromium: the opinion typed on the regional
platform in full, the signed report among the dossier's documents, marked as received, and a
document the cart would not take said plainly, with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.browser.kiosk import shot, sign_in
from tests.documents import samples
from tests.live import running_agent
from tests.loopback import eventually
from tests.sync.fhir_server import fhir_server
from tests.sync.test_region import from_region

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_dossier_shows_what_the_region_wrote(page: Page, tmp_path: Path, artifacts: Path) -> None:
    """The nurse has the dossier open and is writing in its fiche when the region's writings come:
    they show by themselves, and what she was typing stays."""
    with fhir_server(tmp_path / "fhir") as server, running_agent(
            tmp_path / "cart", sync={"fhir_base_url": server.base_url, "poll_seconds": 0.3, "pull_seconds": 0.5}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        dossier, _ = teleconsultation_now(CartBase(agent), nurse, "RETOUR", {"email": "c.petit@chu.example"})
        encounter = eventually(lambda: server.search("Encounter"), timeout=20, what="the encounter on the server")[0]
        sign_in(page, agent, agent.add_account(Role.NURSE))
        page.goto(f"{agent.url}/#/dossier/{dossier['id']}")
        observations = page.locator("#fiche-observations")
        observations.fill("Mollet droit chaud, pas de fièvre")  # typed, not saved yet
        expect(page.locator("#from-region")).to_have_count(0)

        from_region(server, encounter["id"], "Avis du dermatologue", "text/plain",
                    "Ulcère artériel probable.\nDoppler artériel des membres inférieurs sous 8 jours.".encode())
        from_region(server, encounter["id"], "Compte rendu signé", "application/pdf", samples.pdf(("Compte rendu signé",)),
                    type={"coding": [{"system": "http://loinc.org", "code": "11488-4"}]})
        from_region(server, encounter["id"], "Pièce jointe", "application/pdf", samples.edited(samples.open_action_script))

        card = page.locator("#from-region")
        expect(card).to_contain_text("Doppler artériel des membres inférieurs sous 8 jours.", timeout=20_000)
        expect(card).to_contain_text("par Dr Claire PETIT")
        expect(card.locator(".region-refused")).to_contain_text("Demandez-le à la plateforme régionale", timeout=20_000)
        received = page.locator(".document", has_text="reçu du serveur régional")
        expect(received.locator(".doc-name")).to_have_value("Compte rendu signé.pdf", timeout=20_000)
        expect(received.locator(".doc-kind")).to_have_value("compte_rendu")
        expect(observations).to_have_value("Mollet droit chaud, pas de fièvre")
        expect(observations).to_be_focused()
        card.scroll_into_view_if_needed()
        shot(page, artifacts, "recu-du-serveur-regional.png")
