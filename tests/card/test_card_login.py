"""Logging in with the CPS card and its PIN, on a real pcscd with the virtual reader and SoftHSM2
tokens: the reader's state said in French, the card proving itself, PIN tries counted and the last
one guarded, the card pulled out locking its session, someone else's card never sharing one, the
card refused from the network and when its module or its authority fails."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, assert_error, audit_items, logged_in, not_the_kiosk
from tests.card.harness import ANTOINE, CLAIRE, NADIA, PIN, CardDeck, Pcscd, card_agent
from tests.card.token import Authority
from tests.live import LiveAgent
from tests.loopback import eventually


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, deck: CardDeck) -> Iterator[LiveAgent]:
    with card_agent(tmp_path_factory.mktemp("card-agent"), deck) as agent:
        yield agent


@pytest.fixture(scope="module")
def admin(agent: LiveAgent) -> requests.Session:
    return logged_in(agent, agent.add_account(Role.ADMIN))


@pytest.fixture(autouse=True)
def no_card_left(deck: CardDeck) -> Iterator[None]:
    yield
    deck.pull()


def card(agent: LiveAgent, client: requests.Session | None = None) -> dict:
    reply = (client or requests).get(f"{agent.url}{API}/card", timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()


def card_becomes(agent: LiveAgent, state: str, timeout: float = 10) -> dict:
    last: list[dict] = []

    def seen() -> dict | None:
        last[:] = [card(agent)]
        return last[0] if last[0]["state"] == state else None
    try:
        return eventually(seen, timeout=timeout, what=f"card {state}")
    except AssertionError as error:
        raise AssertionError(f"{error}; the reader said {last}") from None


def audit_of(agent: LiveAgent, admin: requests.Session, actor: str, action: str) -> list[str]:
    """The details of `actor`'s records of `action`, oldest first."""
    records = sorted(audit_items(agent, admin, actor=actor), key=lambda r: r["seq"])
    return [r["detail"] for r in records if r["action"] == action]


def linked(agent: LiveAgent, admin: requests.Session, holder_rpps: str, role: Role = Role.NURSE) -> str:
    """A fresh account with the holder's card linked to it; its login."""
    account = agent.add_account(role)
    reply = admin.put(f"{agent.url}{API}/accounts/{account.login}/card", json={"rpps": holder_rpps})
    assert reply.status_code == 200 and reply.json()["rpps"] == holder_rpps, reply.text
    return account.login


def unlink(agent: LiveAgent, admin: requests.Session, login: str) -> None:
    assert admin.put(f"{agent.url}{API}/accounts/{login}/card", json={"rpps": None}).status_code == 200


def pin_login(agent: LiveAgent, client: requests.Session, pin: str = PIN, **extra: object) -> requests.Response:
    return client.post(f"{agent.url}{API}/session/card", json={"pin": pin, **extra}, timeout=30)


def test_the_reader_says_which_card_is_in_and_whose(agent: LiveAgent, deck: CardDeck) -> None:
    empty = card_becomes(agent, "empty")
    assert empty["readers"] == 2 and empty["message"] == "Insérez votre carte CPS."  # vpcd's two readers
    deck.insert(CLAIRE)
    read = card_becomes(agent, "cps")
    assert read["holder"] == {"display_name": "Claire PETIT", "title": "Médecin", "rpps": "99700123456"}
    assert read["message"] == "Carte CPS de Claire PETIT (Médecin)" and read["tries_left"] == 3
    deck.pull()
    card_becomes(agent, "empty")
    deck.insert_bank_card()
    other = card_becomes(agent, "other")
    assert other["message"] == "Cette carte n'est pas une carte CPS : insérez votre carte de professionnel de santé."
    assert_error(pin_login(agent, requests.Session()), 409, "card_absent")


def test_the_pin_opens_the_linked_account_and_pulling_the_card_locks_it(agent: LiveAgent, deck: CardDeck, admin: requests.Session) -> None:
    login = linked(agent, admin, CLAIRE.rpps)
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    kiosk = requests.Session()
    reply = pin_login(agent, kiosk)
    assert reply.status_code == 201, reply.text
    assert reply.json()["user"]["login"] == login and reply.json()["method"] == "cps"
    kiosk.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
    assert kiosk.get(f"{agent.url}{API}/dossiers").status_code == 200
    details = audit_of(agent, admin, login, "login")
    assert details == ["carte CPS + code porteur"]

    pulled = time.monotonic()
    deck.pull()
    eventually(lambda: kiosk.get(f"{agent.url}{API}/session").json()["locked"], timeout=5)
    assert time.monotonic() - pulled < 2.0  # within a second or so: pcscd sees a pull within 0.4 s
    assert_error(kiosk.get(f"{agent.url}{API}/dossiers"), 423, "session_locked")
    locks = audit_of(agent, admin, login, "session.lock")
    assert locks == ["carte CPS retirée"]

    # Her card back in, her PIN alone unlocks her own session (same cookie, same session).
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    again = pin_login(agent, kiosk)
    assert again.status_code == 200 and again.json()["user"]["login"] == login and not again.json()["locked"], again.text
    assert kiosk.get(f"{agent.url}{API}/dossiers").status_code == 200
    unlocks = audit_of(agent, admin, login, "session.unlock")
    assert unlocks == ["carte CPS + code porteur"]
    unlink(agent, admin, login)


def test_someone_elses_card_on_a_locked_screen_opens_their_own_session(agent: LiveAgent, deck: CardDeck, admin: requests.Session) -> None:
    claire, nadia = linked(agent, admin, CLAIRE.rpps), linked(agent, admin, NADIA.rpps)
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    kiosk = requests.Session()
    assert pin_login(agent, kiosk).status_code == 201
    first = kiosk.cookies.get("telecart_session")
    deck.pull()
    eventually(lambda: kiosk.get(f"{agent.url}{API}/session").json()["locked"], timeout=5)

    deck.insert(NADIA)
    assert card_becomes(agent, "cps")["holder"]["display_name"] == "Nadia MERCIER"
    reply = pin_login(agent, kiosk)
    assert reply.status_code == 201 and reply.json()["user"]["login"] == nadia, reply.text
    assert kiosk.cookies.get("telecart_session") != first  # a new session, not Claire's unlocked
    stale = requests.Session()
    stale.cookies.set("telecart_session", first)
    assert_error(stale.get(f"{agent.url}{API}/session"), 401, "session_expired")  # Claire's is over
    ended = audit_of(agent, admin, claire, "logout")
    assert ended == [f"poste repris par Test {nadia} (carte CPS + code porteur)"]  # the account's name
    unlink(agent, admin, claire)
    unlink(agent, admin, nadia)


def test_wrong_pins_count_down_the_last_needs_a_choice_then_the_card_is_blocked(agent: LiveAgent, deck: CardDeck,
                                                                             admin: requests.Session) -> None:
    login = linked(agent, admin, ANTOINE.rpps)
    deck.insert(ANTOINE)
    assert card_becomes(agent, "cps")["tries_left"] == 3
    kiosk = requests.Session()
    body = assert_error(pin_login(agent, kiosk, "0000"), 401, "pin_wrong")
    assert "Il reste 2 essai(s)" in body["message"]
    assert card(agent)["tries_left"] == 2
    assert_error(pin_login(agent, kiosk, "1111"), 401, "pin_wrong")
    # One try left: never spent without the person's explicit choice, even with the right PIN.
    assert_error(pin_login(agent, kiosk, PIN), 409, "pin_last_try")
    assert card(agent)["tries_left"] == 1
    assert_error(pin_login(agent, kiosk, "2222", confirm_last_try=True), 423, "card_blocked")
    assert card(agent)["tries_left"] == 0
    assert_error(pin_login(agent, kiosk, PIN, confirm_last_try=True), 423, "card_blocked")  # not even tried
    failures = audit_of(agent, admin, "Antoine ROUX", "login")
    assert failures == ["code porteur erroné, 2 essai(s) restant(s)", "code porteur erroné, 1 essai(s) restant(s)", "carte CPS bloquée"]
    unlink(agent, admin, login)


def test_a_card_linked_to_no_account_is_refused_by_name(agent: LiveAgent, deck: CardDeck) -> None:
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    body = assert_error(pin_login(agent, requests.Session()), 403, "card_not_linked")
    assert "Claire PETIT" in body["message"] and "99700123456" in body["message"]
    assert card(agent)["tries_left"] == 3  # the PIN was right: nothing counted against the card


def test_one_card_one_account(agent: LiveAgent, admin: requests.Session) -> None:
    first = linked(agent, admin, "10101010101")
    other = agent.add_account(Role.NURSE)
    body = assert_error(admin.put(f"{agent.url}{API}/accounts/{other.login}/card", json={"rpps": "10101010101"}), 409, "card_already_linked")
    assert first in body["message"]
    assert_error(admin.put(f"{agent.url}{API}/accounts/{other.login}/card", json={"rpps": "123"}), 422, "invalid_request")
    unlink(agent, admin, first)


def test_the_card_is_the_carts_screen_only(agent: LiveAgent, deck: CardDeck) -> None:
    """From another address (here 127.0.0.2: still loopback, but not the kiosk's), nothing."""
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    outside = not_the_kiosk()
    assert_error(outside.get(f"{agent.url}{API}/card"), 403, "card_kiosk_only")
    assert_error(outside.post(f"{agent.url}{API}/session/card", json={"pin": PIN}), 403, "card_kiosk_only")
    assert socket.gethostbyname("localhost").startswith("127.")


def test_a_card_of_an_unknown_authority_or_without_a_module_cannot_log_in(tmp_path: Path, deck: CardDeck, pcscd: Pcscd) -> None:
    stranger = Authority.make("AUTRE AUTORITE")
    forged = CLAIRE.__class__("FAUX", "Docteur", "899700999999")
    deck.make(forged, authority=stranger)
    with card_agent(tmp_path / "a", deck) as agent:
        deck.insert(forged)
        refused = card_becomes(agent, "unreadable")
        assert refused["message"] == "Connexion par carte impossible : la carte n'a pas été émise par une autorité reconnue par le chariot."
        assert_error(pin_login(agent, requests.Session()), 503, "card_unavailable")
    with card_agent(tmp_path / "b", deck, pkcs11_module="/usr/lib/absent/libcps.so") as agent:
        deck.insert(CLAIRE)
        broken = card_becomes(agent, "unreadable")
        assert "le module de la carte CPS ne se charge pas" in broken["message"]
        assert requests.get(f"{agent.url}/healthz").status_code == 200  # the agent runs on


def test_pcscd_restarted_is_said_and_the_card_works_again(tmp_path: Path, deck: CardDeck, pcscd: Pcscd) -> None:
    if not pcscd.owned:
        pytest.skip("the machine's own pcscd is not the tests' to restart")
    with card_agent(tmp_path, deck) as agent:
        card_becomes(agent, "empty")
        pcscd.stop()
        assert "service PC/SC arrêté" in card_becomes(agent, "no_service")["message"]
        pcscd.start()
        card_becomes(agent, "empty", timeout=15)
        deck.insert(CLAIRE)
        assert card_becomes(agent, "cps")["holder"]["display_name"] == "Claire PETIT"


def test_a_first_card_login_can_create_its_account_when_the_cart_allows_it(tmp_path: Path, deck: CardDeck) -> None:
    with card_agent(tmp_path, deck, create_accounts=True, new_account_role="doctor") as agent:
        deck.insert(ANTOINE)
        card_becomes(agent, "cps")
        reply = pin_login(agent, requests.Session())
        assert reply.status_code == 201, reply.text
        user = reply.json()["user"]
        assert (user["login"], user["display_name"], user["role"]) == ("aroux", "Antoine ROUX", "doctor")
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        assert {a["login"]: a["rpps"] for a in admin.get(f"{agent.url}{API}/accounts").json()["items"]}["aroux"] == ANTOINE.rpps
        assert audit_of(agent, admin, "carte CPS 899700654321", "account.create") == ["aroux (médecin)"]


def test_a_card_pulled_before_its_pin_is_sent_opens_nothing(agent: LiveAgent, deck: CardDeck, admin: requests.Session) -> None:
    login = linked(agent, admin, CLAIRE.rpps)
    deck.insert(CLAIRE)
    card_becomes(agent, "cps")
    deck.pull()  # the PIN pad was on screen; the card is gone when « Valider » is tapped
    card_becomes(agent, "empty")
    kiosk = requests.Session()
    body = assert_error(pin_login(agent, kiosk), 409, "card_absent")
    assert body["message"] == "Insérez votre carte CPS."
    assert "telecart_session" not in kiosk.cookies
    assert audit_of(agent, admin, login, "login") == []  # no session, no login recorded
    unlink(agent, admin, login)


def test_a_pkcs11_module_that_crashes_takes_only_its_own_process_down(tmp_path: Path, deck: CardDeck) -> None:
    """A vendor's module that dies (here one whose entry point writes to address 0) ends the card's
    process, not the agent: the kiosk says so and the cart goes on."""
    source = tmp_path / "crash.c"
    source.write_text("int C_GetFunctionList(void **list) { *(volatile int *)0 = 1; return 0; }\n")
    module = tmp_path / "libcrash.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(module), str(source)], check=True)
    with card_agent(tmp_path / "agent", deck, pkcs11_module=str(module)) as agent:
        deck.insert(CLAIRE)
        broken = card_becomes(agent, "unreadable")
        assert broken["message"] == "Connexion par carte impossible : le module de la carte CPS s'est arrêté."
        assert requests.get(f"{agent.url}/healthz").status_code == 200
        assert_error(pin_login(agent, requests.Session()), 503, "card_unavailable")
