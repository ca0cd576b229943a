"""The technician's page is a door on the EHPAD's network: only technicians pass (a nurse's right
credentials are refused there, audited, with no session), the first-boot code is shown to the
cart's own screen only and changes after a few wrong tries, it stops working once a technician
account exists, the page answers at the cart's own address but not under a stranger's name, and
it is not there at all when `[technician] page` is off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from agent.technician.first_boot import MAX_WRONG
from tests.live import LiveAgent, free_port, running_agent
from tests.security.test_throttles import from_network

pytestmark = pytest.mark.security

ACCOUNT = {"login": "karim.benali", "display_name": "Karim Benali", "password": "un-long-mot-de-passe"}


@dataclass
class Cart:
    agent: LiveAgent
    https: str
    certificate: str

    def outside(self, path: str, method: str = "GET", **kwargs: object) -> requests.Response:
        return requests.request(method, f"{self.https}{path}", verify=self.certificate, timeout=10, **kwargs)

    def code_on_screen(self) -> str | None:
        return requests.get(f"{self.agent.url}/api/v1/kiosk/technician-access", timeout=5).json()["code"]


@pytest.fixture
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    port, https_port = free_port(), free_port()
    with running_agent(tmp_path_factory.mktemp("technician-door"), port=port, https_port=https_port,
                       env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/system_bus_socket"},  # a cart whose NetworkManager is not running
                       server={"host": "0.0.0.0", "public_host": "127.0.0.1"}) as agent:  # noqa: S104 (the kiosk's listener opened wide, as some carts do)
        yield Cart(agent, f"https://127.0.0.1:{https_port}", str(agent.data_dir / "tls" / "cart.crt"))


def test_the_first_boot_code_is_for_the_carts_screen_and_changes_after_wrong_tries(cart: Cart) -> None:
    code = cart.code_on_screen()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code or "")
    assert cart.outside("/api/v1/kiosk/technician-access").status_code == 404  # not served on the network's listener
    from_lan = from_network().get(f"{cart.agent.url}/api/v1/kiosk/technician-access", timeout=5)
    assert from_lan.status_code == 200 and from_lan.json()["code"] is None  # the kiosk's listener opened wide: still not the code

    for _ in range(MAX_WRONG):
        wrong = cart.outside("/api/v1/tech/first-account", "POST", json={**ACCOUNT, "code": "ZZZZ-ZZZZ"})
        assert wrong.status_code == 401 and "incorrect" in wrong.json()["message"]
    renewed = cart.code_on_screen()
    assert renewed != code  # guessed five times: a new code on the screen
    assert cart.outside("/api/v1/tech/first-account", "POST", json={**ACCOUNT, "code": code}).status_code == 401

    made = cart.outside("/api/v1/tech/first-account", "POST", json={**ACCOUNT, "code": renewed})
    assert made.status_code == 201 and made.json()["otpauth_uri"].startswith("otpauth://totp/")
    again = cart.outside("/api/v1/tech/first-account", "POST", json={**ACCOUNT, "login": "autre", "code": renewed})
    assert again.status_code == 409 and "déjà un compte technicien" in again.json()["message"]
    assert cart.code_on_screen() is None


def test_only_technicians_log_in_there_and_a_nurse_is_refused_without_a_session(cart: Cart) -> None:
    nurse = cart.agent.add_account(Role.NURSE)
    refused = cart.outside("/api/v1/tech/session", "POST", json={"login": nurse.login, "password": nurse.password, "otp": nurse.code()})
    assert refused.status_code == 403 and "réservée aux comptes technicien" in refused.json()["message"]
    assert "Set-Cookie" not in refused.headers
    technician = cart.agent.add_account(Role.TECHNICIAN)
    opened = cart.outside("/api/v1/tech/session", "POST", json={"login": technician.login, "password": technician.password, "otp": technician.code()})
    assert opened.status_code == 201 and "Secure" in opened.headers["Set-Cookie"]
    assert cart.outside("/api/v1/tech/first-account", "POST", json={**ACCOUNT, "code": "AAAA-AAAA"}).status_code == 409  # over

    admin = cart.agent.login(cart.agent.add_account(Role.ADMIN))
    trail = admin.get(f"{cart.agent.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
    refusal = next(r for r in trail if r["action"] == "technician.login" and r["actor"] == nurse.login)
    assert refusal["outcome"] != "success" and "réservée aux comptes technicien" in refusal["detail"]


def test_the_page_answers_at_the_carts_address_not_under_a_strangers_name(cart: Cart) -> None:
    assert cart.outside("/technicien").status_code == 200
    stranger = cart.outside("/api/v1/tech/state", headers={"Host": f"telecart.attaquant.example:{cart.https.rsplit(':', 1)[1]}"})
    assert stranger.status_code == 421


def test_no_technicians_page_when_it_is_switched_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    https_port = free_port()
    with running_agent(tmp_path_factory.mktemp("no-technician-page"), https_port=https_port, technician={"page": False}) as agent:
        outside = f"https://127.0.0.1:{https_port}"
        certificate = str(agent.data_dir / "tls" / "cart.crt")
        for path in ("/technicien", "/api/v1/tech/state"):
            assert requests.get(f"{outside}{path}", verify=certificate, timeout=10).status_code == 404, path
        access = requests.get(f"{agent.url}/api/v1/kiosk/technician-access", timeout=5).json()
        assert (access["provisioning"], access["code"], access["urls"]) == (False, None, [])


def test_from_the_network_the_device_routes_serve_a_technician_and_nobody_else(cart: Cart) -> None:
    technician = cart.agent.add_account(Role.TECHNICIAN)
    opened = cart.outside("/api/v1/tech/session", "POST", json={"login": technician.login, "password": technician.password, "otp": technician.code()})
    cookie = {"telecart_session": opened.cookies["telecart_session"]}
    assert cart.outside("/api/v1/sensors", cookies=cookie).status_code == 200
    assert cart.outside("/api/v1/cameras/preview", cookies=cookie).status_code == 403  # a resident's picture: health data
    assert cart.outside("/api/v1/patients", cookies=cookie).status_code == 404  # not there at all
    csrf = opened.json()["csrf_token"]
    admin = {"login": "sophie.martin", "display_name": "Sophie Martin", "password": "mot-de-passe-de-sophie"}
    first = cart.outside("/api/v1/tech/accounts/first-admin", "POST", json=admin, cookies=cookie, headers={"X-CSRF-Token": csrf})
    assert first.status_code == 201, first.text
    second = cart.outside("/api/v1/tech/accounts/first-admin", "POST", json={**admin, "login": "autre.admin"}, cookies=cookie,
                          headers={"X-CSRF-Token": csrf})
    assert second.status_code == 409 and "déjà un compte administrateur" in second.json()["message"]  # the first one only
    no_network_manager = cart.outside("/api/v1/tech/network", cookies=cookie)
    assert no_network_manager.status_code == 503 and "NetworkManager" in no_network_manager.json()["message"]

    nurse = cart.agent.login(cart.agent.add_account(Role.NURSE))  # a nurse's session made on the cart's own screen…
    stolen = {"telecart_session": nurse.cookies["telecart_session"]}
    refused = cart.outside("/api/v1/sensors", cookies=stolen)  # …is worth nothing from the network
    assert refused.status_code == 403 and "réservée aux comptes technicien" in refused.json()["message"]
