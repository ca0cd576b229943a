"""What the network reaches. The HTTPS listener (the address invitation links point to) serves only
what people outside the cart open; the kiosk and the staff API answer on the cart's own listener;
/metrics answers loopback, or a monitoring server showing its token. Over TLS: HSTS and Secure
cookies; nowhere the server's version."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, CartBase, logged_in, teleconsultation_now
from tests.live import free_port, running_agent
from tests.loopback import SmsGateway, eventually, sms_gateway
from tests.security.test_throttles import from_network

pytestmark = pytest.mark.security


@dataclass
class Cart(CartBase):
    sms: SmsGateway
    nurse: requests.Session
    https: str
    certificate: str

    def outside(self, path: str, method: str = "GET", **kwargs: object) -> requests.Response:
        return requests.request(method, f"{self.https}{path}", verify=self.certificate, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    gateway = SmsGateway()
    port, https_port = free_port(), free_port()
    with sms_gateway(gateway) as url, running_agent(
        tmp_path_factory.mktemp("exposure"), port=port, https_port=https_port, sms={"gateway_url": url},
        server={"public_url": f"https://127.0.0.1:{https_port}", "public_host": "127.0.0.1", "metrics_token": "jeton-de-supervision"},
    ) as agent:
        yield Cart(agent, gateway, logged_in(agent, agent.add_account(Role.NURSE)), f"https://127.0.0.1:{https_port}",
                   str(agent.data_dir / "tls" / "cart.crt"))


def test_the_outside_listener_serves_only_what_outsiders_open(cart: Cart) -> None:
    for path in ("/", "/api/v1/session", "/api/v1/patients", "/api/v1/openapi.json", "/metrics", "/api/v1/audit", "/ws/call"):
        assert cart.outside(path).status_code == 404, path
    assert cart.outside("/api/v1/session", "POST", json={"login": "a", "password": "b", "otp": "000000"}).status_code == 404

    dossier, _ = teleconsultation_now(cart, cart.nurse, "DEHORS", {"mobile": "0612345699"})
    link = dossier["invitations"][0]["link"]
    assert link.startswith(cart.https)
    page = cart.outside(link.removeprefix(cart.https) + "?vue=appel")  # the bare link lands on the specialist's dossier page
    assert page.status_code == 200 and "/static/call/join.js" in page.text
    assert "/static/specialist/app.js" in cart.outside(link.removeprefix(cart.https)).text
    assert cart.outside("/static/call/join.js").status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "aiohttp" not in page.headers.get("Server", "") and "Python" not in page.headers.get("Server", "")

    # The specialist's code opens a link session whose cookie is Secure over TLS.
    room, token = link.rsplit("/", 2)[-2:]
    before = len(cart.sms.texts)
    assert cart.outside(f"{API}/links/{room}/{token}/code", "POST").status_code == 200
    code = re.search(r"\b(\d{6})\b", eventually(lambda: [t["text"] for t in cart.sms.texts[before:] if "code" in t["text"]])[-1]).group(1)
    opened = cart.outside(f"{API}/links/{room}/{token}/session", "POST", json={"code": code})
    assert opened.status_code == 201, opened.text
    assert "Secure" in opened.headers["Set-Cookie"] and "HttpOnly" in opened.headers["Set-Cookie"]


def test_the_kiosk_answers_on_the_carts_own_listener_without_the_servers_version(cart: Cart) -> None:
    kiosk = requests.get(f"{cart.agent.url}/")
    assert kiosk.status_code == 200 and "aiohttp" not in kiosk.headers.get("Server", "")
    assert "Strict-Transport-Security" not in kiosk.headers  # plain HTTP on loopback: HSTS means nothing there


def test_metrics_answer_loopback_or_the_monitoring_token_only(cart: Cart) -> None:
    assert requests.get(f"{cart.agent.url}/metrics").status_code == 200  # the cart itself
    elsewhere = from_network("127.0.0.5")
    assert elsewhere.get(f"{cart.agent.url}/metrics").status_code == 404
    assert elsewhere.get(f"{cart.agent.url}/metrics", headers={"Authorization": "Bearer pas-le-bon"}).status_code == 404
    monitored = elsewhere.get(f"{cart.agent.url}/metrics", headers={"Authorization": "Bearer jeton-de-supervision"})
    assert monitored.status_code == 200 and "telecart_http_requests_total" in monitored.text
