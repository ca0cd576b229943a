"""Brute force against the one-time codes that open the two outside links: the specialist's
dossier link and a document sent to the patient. Five tries per code, counted even though each is
refused: the sixth try fails even with the right code, and every wrong try is in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.link_codes import MAX_ATTEMPTS
from agent.access.roles import Role
from tests.api.helpers import MessagingCart, agent_with_messages, assert_error, audit_items, link_of, logged_in, teleconsultation_now
from tests.documents import samples
from tests.loopback import eventually

pytestmark = pytest.mark.security


@dataclass
class Cart(MessagingCart):
    def code_sent_to(self, mobile: str, after: int) -> str:
        texts = eventually(lambda: [t["text"] for t in self.sms.texts[after:] if t["to"] == mobile and "code" in t["text"]])
        return re.search(r"\b(\d{6})\b", texts[-1]).group(1)

    def resident_dossier(self, mobile: str, email: str) -> tuple[dict, str]:
        return teleconsultation_now(self, self.nurse, "FORCE", {"mobile": "0612345601"}, email=email, mobile=mobile)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with agent_with_messages(tmp_path_factory.mktemp("brute")) as (agent, inbox, gateway):
        yield Cart(agent, inbox, gateway, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.ADMIN)))


def wrong(code: str, n: int) -> str:
    return f"{(int(code) + n) % 10**6:06d}"


def test_the_specialists_code_allows_five_tries_then_not_even_the_right_one(cart: Cart) -> None:
    dossier, patient_id = cart.resident_dossier("0612345602", "force1@famille.example")
    link = cart.url(link_of(dossier))
    before = len(cart.sms.texts)
    assert requests.post(f"{link}/code").status_code == 200
    code = cart.code_sent_to("+33612345601", before)

    lefts = [assert_error(requests.post(f"{link}/session", json={"code": wrong(code, n)}), 401, "code_wrong")["message"]
             for n in range(1, MAX_ATTEMPTS + 1)]
    assert [re.search(r"(\d) essai", m).group(1) for m in lefts[:-1]] == ["4", "3", "2", "1"]
    assert_error(requests.post(f"{link}/session", json={"code": code}), 401, "code_expired")  # the sixth: even the right one
    failures = [r for r in audit_items(cart.agent, cart.admin, patient_id=patient_id)
                if r["action"] == "link.login" and r["outcome"] == "failure"]
    assert len(failures) == MAX_ATTEMPTS


def test_the_patients_download_code_allows_five_tries_then_not_even_the_right_one(cart: Cart) -> None:
    dossier, patient_id = cart.resident_dossier("0612345603", "force2@famille.example")
    doc = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/documents"), files={"file": ("cr.pdf", samples.pdf())}).json()
    assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/documents/{doc['id']}/send"), json={}).status_code == 201
    [email] = eventually(lambda: [r.message for r in cart.inbox.received if "force2@famille.example" in r.recipients])
    link = re.search(r"http://\S+/d/[\w-]+", email.get_content()).group(0)
    before = len(cart.sms.texts)
    assert requests.post(f"{link}/code").status_code == 200
    code = cart.code_sent_to("+33612345603", before)

    for n in range(1, MAX_ATTEMPTS + 1):
        refused = requests.post(link, data={"code": wrong(code, n)})
        assert refused.status_code == 401 and "Code incorrect" in refused.text, refused.text
    sixth = requests.post(link, data={"code": code})
    assert sixth.status_code == 401 and "expiré" in sixth.text and sixth.headers["Content-Type"].startswith("text/html")
    failures = [r for r in audit_items(cart.agent, cart.admin, patient_id=patient_id)
                if r["action"] == "document.download" and r["outcome"] == "failure"]
    assert len(failures) == MAX_ATTEMPTS
