"""A one-time code by SMS or email at login, beside the authenticator app (seed 000 §1.1.2): sent
only after the right password, through the real SMTP relay and SMS gateway on loopback, working
once, erased once used, five tries, a new one every 30 s; each login's method in the audit trail;
the establishment chooses which second factors it allows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, agent_with_messages, anonymous, assert_error, audit_items, logged_in, post_login
from tests.live import Account, LiveAgent
from tests.loopback import Inbox, SmsGateway, eventually

MOBILE, EMAIL = "+33612340077", "m.durand@ehpad.example"


@pytest.fixture(scope="module")
def messaging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, Inbox, SmsGateway]]:
    # Ten failed logins before the account locks (five by default): the code's own five tries show.
    with agent_with_messages(tmp_path_factory.mktemp("codes"), dossiers={"establishment": "EHPAD Les Tilleuls"},
                             security={"max_failed_logins": 10}) as running:
        yield running


@pytest.fixture(scope="module")
def admin(messaging: tuple[LiveAgent, Inbox, SmsGateway]) -> requests.Session:
    agent, _, _ = messaging
    return logged_in(agent, agent.add_account(Role.ADMIN))


def nurse_with_contacts(agent: LiveAgent, admin: requests.Session, **contacts: str | None) -> Account:
    nurse = agent.add_account(Role.NURSE)
    reply = admin.put(f"{agent.url}{API}/accounts/{nurse.login}/contacts", json={"email": None, "mobile": None, **contacts})
    assert reply.status_code == 200, reply.text
    return nurse


def ask_code(agent: LiveAgent, account: Account, channel: str, password: str | None = None) -> requests.Response:
    return anonymous().post(f"{agent.url}{API}/session/code",
                            json={"login": account.login, "password": password or account.password, "channel": channel})


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]


def test_a_code_by_sms_logs_in_once_and_is_audited_as_such(messaging: tuple[LiveAgent, Inbox, SmsGateway], admin: requests.Session) -> None:
    agent, _, sms = messaging
    nurse = nurse_with_contacts(agent, admin, mobile="06 12 34 00 77")
    listed = {a["login"]: a for a in admin.get(f"{agent.url}{API}/accounts").json()["items"]}
    assert listed[nurse.login]["second_factors"] == ["totp", "sms"]
    sent = ask_code(agent, nurse, "sms")
    assert sent.status_code == 202 and sent.json() == {"channel": "sms", "sent_to": "+33 6 •• •• •• 77"}, sent.text
    text = eventually(lambda: [t["text"] for t in sms.texts if t["to"] == MOBILE])[-1]
    assert text.startswith("EHPAD Les Tilleuls : votre code de connexion au chariot est ")
    code = code_in(text)
    logged = post_login(agent, nurse.login, nurse.password, code)
    assert logged.status_code == 201 and logged.json()["method"] == "password+sms", logged.text
    assert_error(post_login(agent, nurse.login, nurse.password, code), 401, "bad_credentials")  # once
    actions = {(r["action"], r["detail"]) for r in audit_items(agent, admin, actor=nurse.login)}
    assert ("login.code", "code de connexion envoyé par SMS") in actions
    assert ("login", "mot de passe + code reçu par SMS") in actions


def test_a_code_by_email_and_the_rules_of_tries_and_resending(messaging: tuple[LiveAgent, Inbox, SmsGateway], admin: requests.Session) -> None:
    agent, inbox, _ = messaging
    nurse = nurse_with_contacts(agent, admin, email=EMAIL)
    assert ask_code(agent, nurse, "email").json() == {"channel": "email", "sent_to": "m•••@ehpad.example"}
    assert_error(ask_code(agent, nurse, "email"), 429, "code_too_soon")  # a new one every 30 s
    message = eventually(lambda: [r.message for r in inbox.received if EMAIL in r.recipients])[-1]
    assert message["Subject"] == "Code de connexion"
    code = code_in(message.get_body(preferencelist=("plain",)).get_content())
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert_error(post_login(agent, nurse.login, nurse.password, wrong), 401, "bad_credentials")
    # Five wrong tries: the code is dead, even typed right now (the account itself is not locked).
    assert_error(post_login(agent, nurse.login, nurse.password, code), 401, "bad_credentials")


def test_nothing_is_sent_without_the_password_or_to_an_address_the_account_lacks(
        messaging: tuple[LiveAgent, Inbox, SmsGateway], admin: requests.Session) -> None:
    agent, _, sms = messaging
    nurse = nurse_with_contacts(agent, admin, mobile="0612340078")
    before = len(sms.texts)
    assert_error(ask_code(agent, nurse, "sms", password="pas le bon mot de passe"), 401, "bad_credentials")
    assert_error(ask_code(agent, nurse, "email"), 409, "factor_unavailable")
    assert len(sms.texts) == before
    failures = [r for r in audit_items(agent, admin, actor=nurse.login) if r["action"] == "login.code" and r["outcome"] != "success"]
    assert failures and failures[0]["detail"] == "mot de passe ou code erroné"


def test_the_establishment_may_allow_the_authenticator_app_only(tmp_path: Path) -> None:
    with agent_with_messages(tmp_path, security={"second_factors": ["totp"]}) as (agent, _, sms):
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        nurse = nurse_with_contacts(agent, admin, mobile="0612340079")
        assert_error(ask_code(agent, nurse, "sms"), 409, "factor_unavailable")
        assert sms.texts == []
        assert logged_in(agent, nurse)  # the app's code still works
