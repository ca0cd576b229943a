"""Spraying and lockouts from the network. A client on another address is played by a socket bound
to 127.0.0.2 (loopback still, but not the cart's own screen, 127.0.0.1): the agent sees it as any
machine of the hospital's network would be seen."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from requests.adapters import HTTPAdapter

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import CartBase, assert_error, current_code, link_of, logged_in, post_login, teleconsultation_now
from tests.live import Account, free_port, running_agent
from tests.loopback import SmsGateway, sms_gateway

pytestmark = pytest.mark.security


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def from_network(address: str = "127.0.0.2") -> requests.Session:
    client = requests.Session()
    client.mount("http://", _FromAddress(address))
    return client


@dataclass
class Cart(CartBase):
    sms: SmsGateway
    nurse: requests.Session


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    gateway = SmsGateway()
    port = free_port()
    with sms_gateway(gateway) as url, running_agent(tmp_path_factory.mktemp("throttle"), port=port, sms={"gateway_url": url},
                                                     server={"public_url": f"http://127.0.0.1:{port}"}) as agent:
        yield Cart(agent, gateway, logged_in(agent, agent.add_account(Role.NURSE)))


def test_login_spraying_from_one_address_is_slowed_down(cart: Cart) -> None:
    attacker = from_network()
    answers = [post_login(cart.agent, f"essai{n}", "mot-de-passe", "000000", client=attacker) for n in range(15)]
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) > 0 and "Trop d'essais" in refused.json()["message"]
    # The cart's own screen is not slowed down by it.
    assert post_login(cart.agent, "essai-local", "mot-de-passe", "000000").status_code == 401


def test_the_network_cannot_lock_the_nurse_out_of_the_carts_screen(cart: Cart) -> None:
    nurse: Account = cart.agent.add_account(Role.NURSE)
    attacker = from_network("127.0.0.3")
    for _ in range(5):
        post_login(cart.agent, nurse.login, "pas-le-bon", current_code(nurse), client=attacker)
    assert_error(post_login(cart.agent, nurse.login, nurse.password, nurse.code(), client=from_network("127.0.0.4")), 423, "account_locked")
    assert post_login(cart.agent, nurse.login, nurse.password, nurse.code()).status_code == 201  # at the cart: in


def test_code_messages_are_capped_per_link(cart: Cart) -> None:
    dossier, _ = teleconsultation_now(cart, cart.nurse, "PLAFOND", {"mobile": "0612345671"})
    url = cart.url(link_of(dossier) + "/code")
    assert requests.post(url).status_code == 200
    assert_error(requests.post(url), 429, "code_too_soon")  # 30 s between two; a refused ask sends and counts nothing
    for _ in range(4):  # half a minute passes between each ask, as the rule wants
        thirty_seconds_later(cart)
        assert requests.post(url).status_code == 200
    thirty_seconds_later(cart)
    capped = assert_error(requests.post(url), 429, "too_many_tries")  # five code messages an hour for one link
    assert re.search(r"\d+ minute", capped["message"])


def thirty_seconds_later(cart: Cart) -> None:
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE link_codes SET sent_at = sent_at - 31")
    db.close()
