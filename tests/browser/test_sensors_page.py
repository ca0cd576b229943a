"""The sensors page in Chromium: a nurse finds a Bluetooth thermometer in range, pairs it with
two taps, sees it connected with its battery, its temperature arrives in the fiche and is recorded;
then forgets it. Bluetooth is bleak's BlueZ backend against BlueZoo on a private D-Bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.browser.kiosk import agent_in, shot, sign_in
from tests.live import LiveAgent
from tests.loopback import eventually
from tests.sensors.bluez import Peripheral, private_bluez, sig_uuid, thermometer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDRESS = "C0:FF:EE:00:00:09"
TEMPERATURE = sig_uuid(0x2A1C)
# Temperature Measurement, the Nordic test vector: 37.60 °C, 2012-12-05 11:50:27, finger.
FEVER = bytes.fromhex("06 B0 0E 00 FE DC 07 0C 05 0B 32 1B 04")


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, Peripheral]]:
    with private_bluez() as bluez:  # the agent inherits the private bus's address
        device = bluez.add_peripheral(thermometer(ADDRESS, name="Thermomètre BLE", battery=64))
        config = f'[bluetooth]\nenabled = true\nadapter = "{bluez.cart_adapter}"\n'
        with agent_in(tmp_path_factory.mktemp("sensors-page"), config_toml=config) as agent:
            yield agent, device


def test_a_thermometer_is_paired_measures_and_is_forgotten(page: Page, cart: tuple[LiveAgent, Peripheral], artifacts: Path) -> None:
    agent, device = cart
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    dossier, _ = teleconsultation_now(CartBase(agent), nurse, "FIEVRE", {"email": "c.petit@chu.example"})

    sign_in(page, agent, agent.add_account(Role.NURSE))
    page.goto(f"{agent.url}/#/dossier/{dossier['id']}")
    page.get_by_role("link", name="Capteurs").tap()  # from the fiche's sensors
    expect(page.get_by_role("heading", name="Capteurs du chariot")).to_be_visible()
    page.get_by_role("button", name="Chercher les appareils").tap()
    found = page.locator(f'[data-pair="{ADDRESS}"]')
    expect(found).to_be_visible(timeout=15_000)
    expect(page.locator(".found-device")).to_contain_text("Thermomètre BLE")
    shot(page, artifacts, "capteurs-recherche.png")
    found.tap()
    row = page.locator(".sensor-row", has_text="Thermomètre BLE")
    expect(row).to_contain_text("connecté", timeout=30_000)
    expect(row).to_contain_text("pile 64 %")
    shot(page, artifacts, "capteurs-associe.png")

    eventually(lambda: device.notifying(TEMPERATURE), timeout=15, what="the cart subscribed to the temperature")
    page.goto(f"{agent.url}/#/dossier/{dossier['id']}")
    device.notify(TEMPERATURE, FEVER)
    card = page.locator(".live-sensor", has_text="Thermomètre BLE")
    expect(card.locator('[data-quantity="temperature"]')).to_contain_text("37,60")
    card.locator("[data-record]").tap()
    expect(page.locator("table.vitals")).to_contain_text("37,6 °C")
    expect(page.locator("table.vitals")).to_contain_text("mesurée par Thermomètre BLE")

    page.get_by_role("link", name="Capteurs").tap()
    forget = page.locator(".sensor-row", has_text="Thermomètre BLE").get_by_role("button", name="Oublier cet appareil")
    forget.tap()
    page.get_by_role("button", name="Toucher encore pour oublier").tap()
    expect(page.locator(".sensor-row", has_text="Thermomètre BLE")).to_have_count(0)
