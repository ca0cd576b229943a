"""The sensors on the kiosk, in Chromium, as a nurse meets them: each sensor's state under the top
bar, the live values and the pleth waveform in the fiche, one tap that records a steady value, the
blood pressure taken from the screen, the guided check-up recorded in one step, and a pulled cable
said at once. The devices are real pseudo-terminals speaking their wire protocols."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from drivers.sensors.simulators import PtyPort, Simulator, Vitals
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.browser.kiosk import agent_in, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Cart(CartBase):
    oximeter: PtyPort
    cuff: PtyPort

    def dossier(self) -> str:
        nurse = logged_in(self.agent, self.agent.add_account(Role.NURSE))
        return teleconsultation_now(self, nurse, "MESURE", {"email": "c.petit@chu.example"})[0]["id"]


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    root = tmp_path_factory.mktemp("vitals")
    oximeter = PtyPort(root / "oximeter", Simulator("contec-cms50d", Vitals(spo2=95, pulse=76))).plug()
    cuff = PtyPort(root / "cuff", Simulator("suntech-nibp", Vitals(systolic=138, diastolic=84, pulse=74), inflation_seconds=2)).plug()
    config = (f'[[sensors]]\nname = "Oxymètre"\nprotocol = "contec-cms50d"\nport = "{oximeter.link}"\n\n'
              f'[[sensors]]\nname = "Tensiomètre"\nprotocol = "suntech-nibp"\nport = "{cuff.link}"\n')
    try:
        with agent_in(root, config_toml=config) as agent:
            yield Cart(agent, oximeter, cuff)
    finally:
        oximeter.pull()
        cuff.pull()


def test_live_values_are_recorded_in_one_tap(page: Page, cart: Cart, artifacts: Path) -> None:
    dossier_id = cart.dossier()
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    strip = page.locator(".sensor-strip")
    expect(strip.locator('[data-sensor="serie-1"]')).to_contain_text("Oxymètre connecté")
    expect(strip.locator('[data-sensor="serie-2"]')).to_contain_text("Tensiomètre connecté")
    page.goto(f"{cart.agent.url}/#/dossier/{dossier_id}")
    oximeter = page.locator('.live-sensor[data-sensor="serie-1"]')
    expect(oximeter.locator('[data-quantity="spo2"]')).to_contain_text("95")
    expect(oximeter.locator('[data-quantity="pulse_rate"]')).to_contain_text("76")
    record = oximeter.locator("[data-record]")
    expect(record).to_have_text("Enregistrer SpO2 95 % · Pouls 76 /min", timeout=15_000)  # once steady for five seconds
    oximeter.scroll_into_view_if_needed()
    shot(page, artifacts, "constantes-en-direct.png")
    record.tap()
    vitals = page.locator("table.vitals")
    expect(vitals).to_contain_text("95 %")
    expect(vitals).to_contain_text("mesurée par Oxymètre de pouls Contec CMS50D+")

    cuff = page.locator('.live-sensor[data-sensor="serie-2"]')
    cuff.get_by_role("button", name="Lancer la mesure").tap()
    expect(cuff.locator("[data-record]")).to_have_text("Enregistrer Tension 138/84 mmHg · Pouls 74 /min", timeout=15_000)
    cuff.locator("[data-record]").tap()
    expect(vitals).to_contain_text("138/84 mmHg")
    shot(page, artifacts, "constantes-enregistrees.png")


def test_the_guided_checkup_records_the_set_in_one_step(page: Page, cart: Cart, artifacts: Path) -> None:
    dossier_id = cart.dossier()
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    page.goto(f"{cart.agent.url}/#/dossier/{dossier_id}")
    page.get_by_role("button", name="Bilan guidé").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Température")).not_to_be_checked()  # no thermometer on this cart
    expect(dialog.get_by_label("Saturation et pouls")).to_be_checked()
    dialog.get_by_label("Poids").uncheck()
    shot(page, artifacts, "bilan-choix.png")
    dialog.get_by_role("button", name="Commencer le bilan").tap()

    expect(dialog).to_contain_text("Étape 1 sur 2")
    expect(dialog).to_contain_text("Placez l'oxymètre sur l'index")
    expect(dialog.get_by_role("button", name="Étape suivante")).to_be_enabled(timeout=15_000)
    shot(page, artifacts, "bilan-oxymetre.png")
    dialog.get_by_role("button", name="Étape suivante").tap()

    expect(dialog).to_contain_text("Étape 2 sur 2")
    expect(dialog.get_by_role("button", name="Étape suivante")).to_be_disabled()
    dialog.get_by_role("button", name="Lancer la mesure").tap()
    expect(dialog.get_by_role("button", name="Étape suivante")).to_be_enabled(timeout=15_000)
    dialog.get_by_role("button", name="Étape suivante").tap()

    expect(dialog).to_contain_text("Résultat du bilan")
    expect(dialog).to_contain_text("Saturation en oxygène (SpO2) : 95 %")
    expect(dialog).to_contain_text("Pression artérielle : 138/84 mmHg")
    shot(page, artifacts, "bilan-resultat.png")
    dialog.get_by_role("button", name="Enregistrer le bilan dans la fiche").tap()
    expect(dialog).to_be_hidden()
    vitals = page.locator("table.vitals")
    for text in ("95 %", "76 /min", "138/84 mmHg"):
        expect(vitals).to_contain_text(text)


def test_a_pulled_cable_is_said_at_once(page: Page, cart: Cart, artifacts: Path) -> None:
    dossier_id = cart.dossier()
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    page.goto(f"{cart.agent.url}/#/dossier/{dossier_id}")
    oximeter = page.locator('.live-sensor[data-sensor="serie-1"]')
    expect(oximeter.locator('[data-quantity="spo2"]')).to_contain_text("95")
    cart.oximeter.pull()
    try:
        expect(page.locator('.sensor-strip [data-sensor="serie-1"]')).to_contain_text("Oxymètre débranché")
        expect(oximeter.locator('[data-quantity="spo2"]')).to_have_count(0)  # not its last value
        expect(oximeter).to_contain_text("Ses valeurs ne sont plus à jour")
        shot(page, artifacts, "oxymetre-debranche.png")
    finally:
        cart.oximeter.plug()
    expect(oximeter.locator('[data-quantity="spo2"]')).to_contain_text("95", timeout=10_000)
