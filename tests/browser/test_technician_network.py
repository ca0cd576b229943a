"""The cart's network from the technician's page, in Chromium, against NetworkManager's D-Bus API
(python-dbusmock's NetworkManager on a private system bus, tests/technician/network_manager.py):
the wired link and its address, the Wi-Fi networks in range strongest first, joining the
protected one with its passphrase (which goes to NetworkManager and nowhere else: not the page,
not the audit trail), and the interface then connected to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from agent.access.roles import Role
from tests.browser.kiosk import shot, technician_signed_in
from tests.live import free_port, running_agent
from tests.technician.network_manager import available, mocked_network_manager

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's python3-dbusmock and dbus-daemon (scripts/bootstrap test)")

PASSPHRASE = "soins-2e-etage-2026"


def test_the_technician_sees_the_wired_link_and_joins_the_wifi(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    with mocked_network_manager(tmp_path) as nm:
        nm.add_ethernet("eth0", "192.168.10.23", 24)
        wifi = nm.add_wifi("wlan0")
        nm.add_access_point(wifi, "EHPAD-Invites", strength=45, secured=False)
        nm.add_access_point(wifi, "EHPAD-Soins", strength=82, secured=True)
        with running_agent(tmp_path, https_port=free_port(), env={"DBUS_SYSTEM_BUS_ADDRESS": nm.address}) as cart:
            context, page = technician_signed_in(browser, cart)

            page.get_by_role("button", name="Réseau", exact=True).click()
            expect(page.get_by_text("Accès à Internet : Internet")).to_be_visible()
            wired = page.locator("table.network tr", has_text="eth0")
            expect(wired).to_contain_text("connecté")
            expect(wired).to_contain_text("192.168.10.23/24")
            expect(page.locator("table.network tr", has_text="wlan0")).to_contain_text("déconnecté")

            page.get_by_role("button", name="Chercher les réseaux Wi-Fi (wlan0)").click()
            choices = page.locator(".found-list button")
            expect(choices).to_have_count(2)
            expect(choices.first).to_have_text("EHPAD-Soins · 82 % · protégé")  # strongest first
            choices.first.click()
            page.get_by_label("Mot de passe du réseau Wi-Fi").fill("court")
            page.get_by_role("button", name="Se connecter à ce réseau").click()
            expect(page.get_by_role("alert")).to_contain_text("de 8 à 63 caractères")
            page.get_by_label("Mot de passe du réseau Wi-Fi").fill(PASSPHRASE)
            page.get_by_role("button", name="Se connecter à ce réseau").click()
            expect(page.locator("table.network tr", has_text="wlan0")).to_contain_text("EHPAD-Soins")
            expect(page.locator("table.network tr", has_text="wlan0")).to_contain_text("connecté")
            shot(page, artifacts, "technicien-reseau.png")
            context.close()

            assert f'"{PASSPHRASE}"' in nm.sent()  # in the connection profile handed to NetworkManager
            admin = cart.login(cart.add_account(Role.ADMIN))
            trail = admin.get(f"{cart.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
            joined = next(r for r in trail if r["action"] == "technician.network")
            assert joined["role"] == "technician" and "EHPAD-Soins" in joined["detail"] and PASSPHRASE not in str(trail)
