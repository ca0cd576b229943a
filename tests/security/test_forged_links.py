"""Made-up outside links leave no trace in the audit trail (it would fill the disk at a request's
cost); they are counted in /metrics. A link the cart really issued is audited whatever happens to
it, a refusal included."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import CartBase, audit_items, logged_in, teleconsultation_now
from tests.live import free_port, running_agent
from tests.system.test_metrics import _samples, _value

pytestmark = pytest.mark.security


@dataclass
class Cart(CartBase):
    nurse: requests.Session
    admin: requests.Session

    def audit_count(self) -> int:
        return audit_items(self.agent, self.admin)[0]["seq"]


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    port = free_port()
    with running_agent(tmp_path_factory.mktemp("forged"), port=port, server={"public_url": f"http://127.0.0.1:{port}"}) as agent:
        yield Cart(agent, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.ADMIN)))


def test_forged_links_are_counted_not_audited_and_issued_ones_are_audited(cart: Cart) -> None:
    dossier, patient_id = teleconsultation_now(cart, cart.nurse, "FORGE", {"email": "c.petit@chu.example"})
    link = dossier["invitations"][0]["link"]
    base, room, token = link.rsplit("/", 2)
    invitation_id, _, mac = token.partition(".")

    before_seq, before = cart.audit_count(), _samples(cart.agent)
    made_up = [f"{base}/{room}/{invitation_id}.{mac[:-4]}{n:04d}" for n in range(40)]  # wrong signatures
    made_up += [f"{base}/{room}/nimporte{n}" for n in range(10)]  # malformed
    made_up += [f"{base}/{room}/inconnu{n}.{mac}" for n in range(10)]  # an invitation never issued
    for url in made_up:
        assert requests.get(url).status_code == 404
    assert cart.audit_count() == before_seq + 1  # only the admin's own reading of the trail
    after = _samples(cart.agent)
    assert _value(after, "telecart_links_forged_total", page="join") - _value(before, "telecart_links_forged_total", page="join") == 60

    revoked = cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/invitations/{dossier['invitations'][0]['id']}"))
    assert revoked.status_code == 200
    assert requests.get(link).status_code == 403
    opened = [r for r in audit_items(cart.agent, cart.admin, patient_id=patient_id) if r["action"] == "invitation.open"]
    assert [r["outcome"] for r in opened] == ["denied"]  # the issued link, refused once revoked
