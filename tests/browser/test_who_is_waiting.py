"""Who is waiting, at a glance (issue 17, item 3): with the specialist in the room, the activity
view says « Dr X vous attend en salle » on the consultation's row and the dossier says it too, each
with one tap to enter; the activity view follows new dossiers by itself; and following the cart
(the pulse) reads no resident's data, so it writes nothing in the audit trail."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, audit_items, logged_in
from tests.browser.kiosk import shot, sign_in
from tests.call.harness import Cart, cart_with_mail
from tests.loopback import eventually

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("waiting")) as cart:
        yield cart


class InTheRoom:
    """A participant's browser reduced to its room socket, held open in a thread of its own."""

    def __init__(self, link: str) -> None:
        self.url = link.replace("http://", "ws://") + "/ws"
        self.joined, self.leave = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(self.url) as ws:
            self.joined.set()
            while not self.leave.is_set():
                try:
                    await asyncio.wait_for(ws.receive(), 0.2)
                except TimeoutError:
                    pass

    def __enter__(self) -> InTheRoom:
        self.thread.start()
        assert self.joined.wait(10), "the participant did not get into the room"
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave.set()
        self.thread.join(5)


def test_the_nurse_sees_the_specialist_waiting_and_enters_in_one_tap(page: Page, cart: Cart, artifacts: Path) -> None:
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    dossier = cart.dossier("attend@chu.example")
    # Made elsewhere (another nurse, the API): the activity view shows it by itself.
    row = page.locator(f"[data-consultation='{dossier['id']}']")
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator(".presence")).to_have_count(0)

    with InTheRoom(dossier["invitations"][0]["link"]):
        expect(row.locator(".presence")).to_contain_text("Dr Claire PETIT vous attend en salle", timeout=15_000)
        expect(row.get_by_role("button", name="Entrer en salle")).to_be_visible()
        shot(page, artifacts, "activite-medecin-en-salle.png")
        row.locator(".who").tap()
        banner = page.locator(".presence-banner")
        expect(banner).to_contain_text("Dr Claire PETIT vous attend en salle", timeout=15_000)
        shot(page, artifacts, "dossier-medecin-en-salle.png")
        enter = page.locator("#enter-room")
        expect(enter).to_have_class(re.compile(r"\battention\b"))  # beside the name, made to stand out
        enter.tap()
        expect(page.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
        page.get_by_role("button", name="Quitter la salle").tap()


def test_following_the_cart_reads_no_residents_data(cart: Cart) -> None:
    nurse = logged_in(cart.agent, cart.agent.add_account(Role.NURSE))
    admin = logged_in(cart.agent, cart.agent.add_account(Role.ADMIN))
    before = audit_items(cart.agent, admin)[0]["seq"]
    pulses = [nurse.get(f"{cart.agent.url}{API}/activity/pulse", headers={"X-Telecart-Background": "1"}).json() for _ in range(3)]
    assert audit_items(cart.agent, admin)[0]["seq"] == before + 1  # the admin's own reading of the trail, nothing else
    assert len({p["version"] for p in pulses}) == 1
    cart.dossier("nouveau@chu.example")
    assert nurse.get(f"{cart.agent.url}{API}/activity/pulse").json()["version"] != pulses[0]["version"]


def test_an_open_dossiers_version_moves_with_what_its_page_shows_and_reads_nothing(cart: Cart) -> None:
    """The dossier's page asks for its dossier's version with the pulse and reads the dossier only
    when it moves: reading must not move it (the page would read for ever), asking writes no audit."""
    nurse = logged_in(cart.agent, cart.agent.add_account(Role.NURSE))
    admin = logged_in(cart.agent, cart.agent.add_account(Role.ADMIN))
    dossier = cart.dossier("version@chu.example")
    pulse = f"{cart.agent.url}{API}/activity/pulse?dossier={dossier['id']}"
    def read_once_sent() -> dict | None:  # the invitation's email leaving moves the version: let it leave first
        found = nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()
        return found if all(d["state"] == "sent" for inv in found["invitations"] for d in inv["deliveries"]) else None

    read = eventually(read_once_sent, what="the invitation sent")
    before = audit_items(cart.agent, admin)[0]["seq"]
    versions = {nurse.get(pulse, headers={"X-Telecart-Background": "1"}).json()["dossier_version"] for _ in range(3)}
    assert versions == {read["version"]}
    assert audit_items(cart.agent, admin)[0]["seq"] == before + 1  # the admin's own reading of the trail only
    assert nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["version"] == read["version"]  # a read moves nothing

    saved = nurse.patch(cart.url(f"/dossiers/{dossier['id']}/fiche"), json={"observations": "Érythème du talon"}).json()
    assert saved["version"] != read["version"]
    assert nurse.get(pulse).json()["dossier_version"] == saved["version"]
    assert nurse.get(f"{cart.agent.url}{API}/activity/pulse?dossier=nowhere").json()["dossier_version"] is None
