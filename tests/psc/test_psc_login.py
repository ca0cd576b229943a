"""Pro Santé Connect at the kiosk, against a real OpenID provider on loopback (tests/psc/provider.py,
authlib's server): the browser goes to the provider, comes back with a code, and the agent opens the
linked account's session; every way the provider's answer can be wrong is refused with a French
page and no session; the agent keeps running when the provider is down or answers garbage."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, assert_error, audit_items, logged_in, not_the_kiosk
from tests.live import LiveAgent, free_port, running_agent
from tests.psc.provider import CLIENT_ID, CLIENT_SECRET, Person, Provider, psc_stack

CLAIRE = Person("899700123456", "Claire", "PETIT")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, Provider]]:
    with psc_stack(tmp_path_factory.mktemp("psc")) as running:
        yield running


@pytest.fixture(autouse=True)
def well_behaved(stack: tuple[LiveAgent, Provider]) -> Iterator[None]:
    yield
    stack[1].misbehave = ""


def said(page: requests.Response) -> str:
    """A page's text as a person reads it (entities decoded)."""
    return html.unescape(page.text)


def kiosk_login(agent: LiveAgent, provider: Provider, who: Person) -> tuple[requests.Session, requests.Response]:
    """The kiosk's browser: « Se connecter avec Pro Santé Connect », the provider, back to the cart."""
    provider.approve_as = who
    browser = requests.Session()
    start = browser.get(f"{agent.url}{API}/psc/start")
    assert start.status_code == 200, start.text
    return browser, browser.get(start.json()["url"], timeout=30)


def test_a_linked_professional_comes_back_logged_in(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    admin = logged_in(agent, agent.add_account(Role.ADMIN))
    doctor = agent.add_account(Role.DOCTOR)
    assert admin.put(f"{agent.url}{API}/accounts/{doctor.login}/card", json={"rpps": CLAIRE.idnat[1:]}).status_code == 200
    browser, landed = kiosk_login(agent, provider, CLAIRE)
    assert landed.status_code == 200 and landed.url.startswith(f"{agent.url}/"), landed.url  # the kiosk, logged in
    asked = parse_qs(urlsplit(landed.history[0].url).query)
    assert asked["acr_values"] == ["eidas1"] and asked["code_challenge_method"] == ["S256"] and asked["nonce"]
    session = browser.get(f"{agent.url}{API}/session").json()
    assert session["user"]["login"] == doctor.login and session["method"] == "psc", session
    records = [r for r in audit_items(agent, admin, actor=doctor.login) if r["action"] == "login"]
    assert [r["detail"] for r in records] == ["Pro Santé Connect (e-CPS)"]


def test_the_staff_login_starts_on_the_carts_screen_only(stack: tuple[LiveAgent, Provider]) -> None:
    agent, _ = stack
    body = assert_error(not_the_kiosk().get(f"{agent.url}{API}/psc/start"), 403, "psc_kiosk_only")
    assert "écran du chariot" in body["message"]


def test_a_professional_linked_to_no_account_is_told_so(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    browser, landed = kiosk_login(agent, provider, Person("899700999111", "Paul", "NOBODY"))
    assert landed.status_code == 403 and "Paul NOBODY (RPPS 99700999111) n'a pas de compte actif" in said(landed)
    assert "telecart_session" not in browser.cookies


@pytest.mark.parametrize("wrong", ["audience", "signature", "nonce", "expired"])
def test_a_wrong_id_token_opens_nothing(stack: tuple[LiveAgent, Provider], wrong: str) -> None:
    agent, provider = stack
    provider.misbehave = wrong
    browser, landed = kiosk_login(agent, provider, CLAIRE)
    assert landed.status_code == 403, (wrong, landed.status_code, landed.text[:300])
    assert "le jeton d'identité de Pro Santé Connect est refusé" in said(landed), said(landed)
    assert "Traceback" not in landed.text and "telecart_session" not in browser.cookies


def test_a_code_or_a_state_works_once(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    provider.approve_as = CLAIRE
    browser = requests.Session()
    start = browser.get(f"{agent.url}{API}/psc/start").json()["url"]
    back = browser.get(start, allow_redirects=False)  # the provider's redirect to the cart, not followed yet
    returned = back.headers["Location"]
    assert browser.get(returned).status_code in (200, 403)  # used once (Claire may have no account here)
    again = requests.get(returned)
    assert again.status_code == 403 and "expiré ou a déjà servi" in said(again)
    code = parse_qs(urlsplit(returned).query)["code"][0]
    fresh_state = parse_qs(urlsplit(requests.get(f"{agent.url}{API}/psc/start").json()["url"]).query)["state"][0]
    replayed = requests.get(f"{agent.url}/psc/retour", params={"code": code, "state": fresh_state})
    assert replayed.status_code == 403 and "a refusé le code de connexion" in said(replayed)


def test_the_provider_down_or_garbled_is_said_and_the_agent_runs_on(tmp_path: Path, stack: tuple[LiveAgent, Provider]) -> None:
    _, provider = stack
    provider.misbehave = "garbage"
    port = free_port()
    with running_agent(tmp_path / "a", port=port, psc={"enabled": True, "issuer": provider.issuer, "client_id": CLIENT_ID,
                                                       "client_secret": CLIENT_SECRET, "redirect_uri": f"http://127.0.0.1:{port}/psc/retour"}) as agent:
        body = assert_error(requests.get(f"{agent.url}{API}/psc/start"), 503, "psc_unavailable")
        assert "illisible" in body["message"]
    dead = f"http://127.0.0.1:{free_port()}/auth/realms/esante-wallet"
    with running_agent(tmp_path / "b", psc={"enabled": True, "issuer": dead, "client_id": CLIENT_ID}) as agent:
        assert_error(requests.get(f"{agent.url}{API}/psc/start"), 503, "psc_unavailable")
        assert requests.get(f"{agent.url}/healthz").status_code == 200
    with running_agent(tmp_path / "c") as agent:  # off by default
        assert_error(requests.get(f"{agent.url}{API}/psc/start"), 409, "psc_off")
        assert "n'est pas activé" in said(requests.get(f"{agent.url}/psc/retour"))
