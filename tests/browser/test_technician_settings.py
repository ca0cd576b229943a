"""The technician's page beyond the network, in Chromium: the cart's clock against
systemd-timedated's D-Bus API (python-dbusmock's timedated on a private system bus,
tests/technician/timedated.py), and the settings kept beside the database (the regional server's
address, the EHPAD's web proxy): saved from the page, the agent restarts itself to apply them (the
test plays systemd: it sees exit status 75 and starts the agent again), and the resident's dossier
then reaches the regional server (a real FHIR server) through the proxy (a real one, which asks for
its password)."""

from __future__ import annotations

import socket
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from agent.access.roles import Role
from agent.app import RESTART_STATUS
from agent.site_settings import FILE_NAME
from tests.audio.pulse_server import running_pulse_server
from tests.browser.kiosk import shot, technician_signed_in
from tests.live import free_port, running_agent
from tests.sync.cart_dossiers import make_dossiers
from tests.sync.fhir_server import fhir_server
from tests.technician.network_manager import available
from tests.technician.timedated import mocked_timedated
from tests.web_proxy import web_proxy


@pytest.mark.skipif(not available(), reason="needs Debian's python3-dbusmock and dbus-daemon (scripts/bootstrap test)")
def test_the_technician_sets_the_time_zone_and_the_time_by_hand(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    with mocked_timedated(tmp_path, timezone="Europe/Paris", ntp=True) as timedated, \
            running_agent(tmp_path, https_port=free_port(), env={"DBUS_SYSTEM_BUS_ADDRESS": timedated.address}) as cart:
        context, page = technician_signed_in(browser, cart)
        page.get_by_role("button", name="Heure", exact=True).click()
        expect(page.locator(".figure", has_text="Heure réseau")).to_contain_text("synchronisée : l'heure est juste")
        expect(page.locator(".figure", has_text="Heure du chariot")).to_contain_text("Fuseau horaire : Europe/Paris")
        expect(page.get_by_role("form", name="Régler l'heure à la main")).to_have_count(0)  # only once network time is off

        page.get_by_label("Fuseau horaire").select_option("Indian/Reunion")
        page.get_by_role("button", name="Enregistrer le fuseau horaire").click()
        # No service manager here to restart the agent: the page says so.
        expect(page.locator(".toast")).to_contain_text("Redémarrez l'agent")
        expect(page.locator(".figure", has_text="Heure du chariot")).to_contain_text("Fuseau horaire : Indian/Reunion")
        expect(page.get_by_text("Un réglage enregistré attend le redémarrage")).to_be_visible()
        assert timedated.properties()["Timezone"] == "Indian/Reunion"
        saved = tomllib.loads((cart.data_dir / FILE_NAME).read_text())
        assert saved == {"dossiers": {"timezone": "Indian/Reunion"}}

        page.get_by_role("button", name="Couper l'heure réseau").click()
        expect(page.locator(".figure", has_text="Heure réseau")).to_contain_text("coupée")
        assert timedated.properties()["NTP"] is False
        page.get_by_label("Date et heure").fill("2026-12-06T09:30:00")
        page.get_by_role("button", name="Régler l'heure du chariot").click()
        expect(page.get_by_text("Heure du chariot réglée.")).to_be_visible()
        shot(page, artifacts, "technicien-heure.png")
        context.close()
        assert "member=SetTime" in timedated.sent()

        admin = cart.login(cart.add_account(Role.ADMIN))
        trail = admin.get(f"{cart.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
        said = [r["detail"] for r in trail if r["action"] == "technician.clock" and r["role"] == "technician"]
        assert any("Indian/Reunion" in d for d in said) and any("heure réseau coupée" in d for d in said) and any("à la main" in d for d in said)

    # The next start writes the agent's dates in the zone chosen, over the configuration file's.
    with mocked_timedated(tmp_path / "again", timezone="Indian/Reunion") as timedated, \
            running_agent(tmp_path, data_dir=cart.data_dir, https_port=free_port(), env={"DBUS_SYSTEM_BUS_ADDRESS": timedated.address},
                          dossiers={"timezone": "Europe/Paris"}) as again:
        technician = again.login(again.add_account(Role.TECHNICIAN))
        clock = technician.get(f"{again.url}/api/v1/tech/clock", timeout=5).json()
        assert clock["dates_timezone"] == "Indian/Reunion" and clock["restart_pending"] is False


def test_the_regional_server_and_the_proxy_set_on_the_page_apply_after_the_agent_restarts_itself(
        tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    notify_path = Path(tempfile.mkdtemp(prefix="notify-", dir="/tmp")) / "notify"  # short: a socket's path has 107 bytes at most
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # as systemd's: the agent then knows it is restarted for it
    notify.bind(str(notify_path))
    with fhir_server(tmp_path) as region, web_proxy(credentials="chariot:s3cret-proxy") as proxy, \
            running_agent(tmp_path, https_port=free_port(), env={"NOTIFY_SOCKET": str(notify_path)},
                          sync={"poll_seconds": 0.5}) as cart:
        make_dossiers(cart.data_dir, 1, name="PROXYNOM")
        context, page = technician_signed_in(browser, cart)
        assert cart.proc is not None
        page.get_by_role("button", name="Réseau", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("NetworkManager")  # none on this machine: the proxy is still the agent's
        page.get_by_label("Adresse du proxy").fill(proxy.url)
        page.get_by_role("button", name="Enregistrer").click()
        assert cart.proc.wait(20) == RESTART_STATUS  # stopped cleanly to restart: systemd's Restart=on-failure starts it again
        cart.start()
        expect(page.get_by_label("Adresse du proxy")).to_have_value(f"http://••••••••@127.0.0.1:{proxy.port}")  # its password not shown again
        shot(page, artifacts, "technicien-proxy.png")

        page.get_by_role("button", name="Enrôlement régional").click()
        page.get_by_label("Adresse FHIR du serveur régional").fill("pas une adresse")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("alert")).to_contain_text("une adresse web complète est attendue")
        assert cart.proc.poll() is None  # nothing saved, no restart

        page.get_by_label("Adresse FHIR du serveur régional").fill(region.base_url)
        page.get_by_role("button", name="Enregistrer").click()
        assert cart.proc.wait(20) == RESTART_STATUS
        cart.start()
        expect(page.get_by_label("Adresse FHIR du serveur régional")).to_have_value(region.base_url)
        shot(page, artifacts, "technicien-serveur-regional.png")
        context.close()

        deadline = time.monotonic() + 60
        while region.count("Patient") < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert region.count("Patient") == 1, cart.log()[-3000:]
        assert any(line.startswith(f"POST {region.base_url}") for line in proxy.requests), proxy.requests

        admin = cart.login(cart.add_account(Role.ADMIN))
        trail = admin.get(f"{cart.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
        said = [r["detail"] for r in trail if r["action"] == "technician.settings"]
        assert any(region.base_url in d for d in said) and any("proxy" in d for d in said)
        assert "s3cret-proxy" not in str(trail)
    notify.close()


def test_the_technician_tests_the_speaker_and_the_microphone(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    """A real PulseAudio server whose default microphone hears the loudspeaker (tests/audio/pulse_server.py)."""
    (tmp_path / "pulse").mkdir()
    with running_pulse_server(tmp_path / "pulse") as pulse, \
            running_agent(tmp_path, https_port=free_port(), env={"PULSE_SERVER": pulse.address}) as cart:
        context, page = technician_signed_in(browser, cart)
        page.get_by_role("button", name="Son", exact=True).click()
        page.get_by_role("button", name="Tester le haut-parleur et le micro").click()
        expect(page.locator(".sound-result [role=status]")).to_have_text("Haut-parleur et micro fonctionnent", timeout=15_000)
        expect(page.locator(".figure", has_text="Micro")).to_contain_text("entend le haut-parleur")
        shot(page, artifacts, "technicien-son.png")
        context.close()


def test_the_technician_chooses_the_printer_and_the_cart_keeps_it(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    """A real CUPS with two queues (tests/printing/cups_server.py): the page lists them with their
    state; the one chosen is the cart's from then on, and after a restart."""
    from tests.printing.cups_server import available as cups_available
    from tests.printing.cups_server import cups_server

    if (why := cups_available()) is not None:
        pytest.skip(why)
    with cups_server() as cups:
        cups.add_pdf_printer("soins", info="Imprimante des soins", location="2e étage")
        cups.add_test_printer("pharmacie")
        cups.set_default("soins")
        with running_agent(tmp_path, https_port=free_port(), printing={"server": cups.address}) as cart:
            context, page = technician_signed_in(browser, cart)
            page.get_by_role("button", name="Imprimante", exact=True).click()
            rows = page.locator("table.printers tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.filter(has_text="Imprimante des soins")).to_contain_text("utilisée par le chariot")  # CUPS's default until chosen
            rows.filter(has_text="pharmacie").get_by_role("button", name="Utiliser celle-ci").click()
            expect(page.locator(".toast")).to_contain_text("Les impressions iront à « pharmacie »")
            expect(rows.filter(has_text="pharmacie")).to_contain_text("utilisée par le chariot")
            shot(page, artifacts, "technicien-imprimante.png")
            context.close()
        assert tomllib.loads((cart.data_dir / FILE_NAME).read_text())["printing"] == {"printer": "pharmacie"}
        with running_agent(tmp_path, data_dir=cart.data_dir, printing={"server": cups.address}) as again:
            technician = again.login(again.add_account(Role.TECHNICIAN))
            assert technician.get(f"{again.url}/api/v1/printers", timeout=10).json()["chosen"] == "pharmacie"
