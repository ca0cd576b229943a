"""A page on another site that holds a participant's link cannot open the room's socket nor drop a
file into the dossier: the room checks Origin as the API does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import CartBase, assert_error, logged_in, teleconsultation_now
from tests.documents import samples
from tests.live import free_port, running_agent

pytestmark = pytest.mark.security

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@dataclass
class Cart(CartBase):
    nurse: requests.Session


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    port = free_port()
    with running_agent(tmp_path_factory.mktemp("origin"), port=port, server={"public_url": f"http://127.0.0.1:{port}"}) as agent:
        yield Cart(agent, logged_in(agent, agent.add_account(Role.NURSE)))


def test_a_foreign_page_cannot_open_the_room_or_add_a_document(cart: Cart) -> None:
    dossier, _ = teleconsultation_now(cart, cart.nurse, "ORIGINE", {"email": "c.petit@chu.example"})
    link = dossier["invitations"][0]["link"]
    foreign = {"Origin": "https://piege.example"}
    assert_error(requests.get(f"{link}/ws", headers=UPGRADE | foreign), 403, "origin_refused")
    assert_error(requests.post(f"{link}/documents", headers=foreign, files={"file": ("x.pdf", samples.pdf())}), 403, "origin_refused")
    assert requests.get(f"{link}/ws", headers=UPGRADE | {"Origin": cart.agent.url}).status_code == 101  # the join page itself
    after = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()
    assert after["documents"] == []
