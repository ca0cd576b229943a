"""Helpers shared by the API tests: agents with a special configuration, raw logins, one-time
codes that are sure to be wrong, error-body checks, and clients that refuse any response body
leaking a Python traceback."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import requests

from tests.live import Account, LiveAgent, free_port, running_agent  # noqa: F401  (re-exported)
from tests.loopback import Inbox, SmsGateway, sms_gateway, smtp_server

API = "/api/v1"


@dataclass
class CartBase:
    """A running agent, as the tests' carts start from: each test module adds the people and the
    loopback mail and SMS servers it needs."""

    agent: LiveAgent

    def url(self, path: str) -> str:
        return f"{self.agent.url}{API}{path}"
COOKIE = "telecart_session"

# Words that only a French sentence is likely to hold (the agent speaks French to nurses).
_FRENCH = re.compile(r"[éèêàâçùûôî]|\b(le|la|les|des|du|de|un|une|est|sont|ce|cette|certains|vous|votre|pas|ou|et|dans|pour|au|aux)\b",
                     re.IGNORECASE)


def assert_french(text: str) -> None:
    assert text and _FRENCH.search(text), f"not a French message: {text!r}"


# --- clients ----------------------------------------------------------------------------------

def _no_traceback(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    assert "Traceback" not in response.text, f"{response.request.method} {response.url} leaked a traceback:\n{response.text}"


def guarded(client: requests.Session) -> requests.Session:
    """Make every response of `client` fail the test if its body holds a Python traceback."""
    if _no_traceback not in client.hooks["response"]:
        client.hooks["response"].append(_no_traceback)
    return client


def anonymous() -> requests.Session:
    return guarded(requests.Session())


def logged_in(agent: LiveAgent, account: Account) -> requests.Session:
    return guarded(agent.login(account))


def cookie_header(token: str) -> dict[str, str]:
    """Send a session cookie by hand, whatever the client's cookie jar thinks of its expiry."""
    return {"Cookie": f"{COOKIE}={token}"}


class _FromElsewhere(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = ("127.0.0.2", 0)
        super().init_poolmanager(*args, **kwargs)


def not_the_kiosk() -> requests.Session:
    """A client from 127.0.0.2: still loopback for the network, but not the cart's own screen
    (the agent's LOOPBACK is 127.0.0.1 and ::1), for what only the kiosk may do."""
    client = requests.Session()
    client.mount("http://", _FromElsewhere())
    return client


def post_login(agent: LiveAgent, login: str, password: str, otp: str,
               client: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    client = client or anonymous()
    return client.post(f"{agent.url}{API}/session", json={"login": login, "password": password, "otp": otp}, **kwargs)


def set_cookies(response: requests.Response) -> list[str]:
    """The raw Set-Cookie headers, one string each, as the server wrote them."""
    return response.raw.headers.getlist("Set-Cookie")


def session_cookie(response: requests.Response) -> str:
    """The raw Set-Cookie header carrying the session token (exactly one)."""
    found = [h for h in set_cookies(response) if h.startswith(f"{COOKIE}=")]
    assert len(found) == 1, f"expected one {COOKIE} cookie, got {set_cookies(response)}"
    return found[0]


def token_of(response: requests.Response) -> str:
    return session_cookie(response).split(";", 1)[0].split("=", 1)[1]


# --- one-time codes ---------------------------------------------------------------------------

def current_code(account: Account) -> str:
    """The current code, without marking it used on the Account (for attempts the agent refuses
    before it consumes the code: wrong password, locked account, refused Origin)."""
    return pyotp.TOTP(account.secret).now()


def wrong_code(account: Account) -> str:
    """Six digits that match none of the account's codes around now (so surely refused)."""
    totp = pyotp.TOTP(account.secret)
    here = int(time.time() // 30)
    near = {totp.generate_otp(step) for step in range(here - 3, here + 4)}
    return next(c for c in (f"{d}" * 6 for d in range(10)) if c not in near)


# --- errors -----------------------------------------------------------------------------------

def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """A JSON error body with the given status and code and a French message; returns the body."""
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert body["error"] == code, body
    assert_french(body["message"])
    assert "Traceback" not in response.text
    return body


# --- patients ---------------------------------------------------------------------------------

def patient(**overrides: Any) -> dict[str, Any]:
    """A valid patient identity with a birth name no other test uses."""
    unique = uuid.uuid4().hex[:10].upper()
    body: dict[str, Any] = {"birth_name": f"TEST{unique}", "first_names": ["Marcel"], "birth_date": "1931-11-02", "sex": "M"}
    body.update(overrides)
    return body


@dataclass
class MessagingCart(CartBase):
    """A cart whose mail and SMS reach loopback servers, with a nurse and an administrator logged in."""

    inbox: Inbox
    sms: SmsGateway
    nurse: requests.Session
    admin: requests.Session


@contextlib.contextmanager
def agent_with_messages(root: Path, **sections: Any) -> Iterator[tuple[LiveAgent, Inbox, SmsGateway]]:
    """A running agent whose emails reach a real SMTP server and SMS a real gateway, both on
    loopback, its links on its own port; `sections` add to its configuration."""
    inbox, gateway = Inbox(), SmsGateway()
    port = free_port()
    with smtp_server(inbox) as smtp_port, sms_gateway(gateway) as sms_url, running_agent(
        root, port=port, server={"public_url": f"http://127.0.0.1:{port}"}, sms={"gateway_url": sms_url},
        mail={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none"}, **sections,
    ) as agent:
        yield agent, inbox, gateway


def teleconsultation_now(cart: CartBase, nurse: requests.Session, birth_name: str, reached_by: dict[str, str],
                         **identity: Any) -> tuple[dict[str, Any], str]:
    """A resident and a teleconsultation with Dr Claire Petit now, the doctor reached by
    `reached_by` ({"email": ...} or {"mobile": ...}); returns (the dossier, the patient's id)."""
    made = nurse.post(cart.url("/patients"), json=patient(birth_name=birth_name, confirm_duplicate=True, **identity))
    assert made.status_code == 201, made.text
    dossier = nurse.post(cart.url("/dossiers"), json={
        "patient_id": made.json()["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", **reached_by}, "slot": {"now": True}, "confirm_overlap": True})
    assert dossier.status_code == 201, dossier.text
    return dossier.json(), made.json()["id"]


def link_of(dossier: dict[str, Any], api: str = "") -> str:
    """The API path of the specialist's link (`/links/{room}/{token}`), after `api` if given."""
    room, token = dossier["invitations"][0]["link"].rsplit("/", 2)[-2:]
    return f"{api}/links/{room}/{token}"


def birth_names(agent: LiveAgent, client: requests.Session) -> set[str]:
    listed = client.get(f"{agent.url}{API}/patients", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    return {p["birth_name"] for p in listed.json()["items"]}


def audit_items(agent: LiveAgent, admin: requests.Session, **params: Any) -> list[dict[str, Any]]:
    reply = admin.get(f"{agent.url}{API}/audit", params={"limit": 500, **params})
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


# --- agents -----------------------------------------------------------------------------------

