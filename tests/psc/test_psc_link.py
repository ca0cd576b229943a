"""A consulted doctor opens their link's dossier with Pro Santé Connect instead of a code by SMS:
the real OpenID provider on loopback proves their RPPS, the cart checks it is the invited doctor's,
and the same link session opens (its CSRF token with the dossier); another doctor is refused."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, CartBase, assert_error, audit_items, link_of, logged_in, teleconsultation_now
from tests.live import LiveAgent
from tests.psc.provider import Person, Provider, psc_stack

CLAIRE = Person("899700123456", "Claire", "PETIT")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAgent, Provider]]:
    with psc_stack(tmp_path_factory.mktemp("psc-link")) as running:
        yield running


def invited_link(agent: LiveAgent, rpps: str | None) -> tuple[str, str]:
    """A teleconsultation now with Dr Claire Petit (her RPPS on the invitation when given): the
    link's API path and the patient's id."""
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    reached = {"email": "claire.petit@chu.example", **({"rpps": rpps} if rpps else {})}
    dossier, patient_id = teleconsultation_now(CartBase(agent), nurse, "LIEN", reached)
    return link_of(dossier, f"{agent.url}{API}"), patient_id


def open_with_psc(link_api: str, provider: Provider, who: Person) -> tuple[requests.Session, requests.Response]:
    provider.approve_as = who
    doctor = requests.Session()
    assert doctor.get(f"{link_api}/ways").json() == {"psc": True}
    start = doctor.get(f"{link_api}/psc/start")
    assert start.status_code == 200, start.text
    return doctor, doctor.get(start.json()["url"], timeout=30)


def test_the_invited_doctor_opens_the_dossier_with_psc(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    link_api, patient_id = invited_link(agent, CLAIRE.idnat[1:])
    doctor, landed = open_with_psc(link_api, provider, CLAIRE)
    assert landed.status_code == 200 and "?vue=dossier" in landed.url, landed.url  # the specialist's page
    dossier = doctor.get(f"{link_api}/dossier")
    assert dossier.status_code == 200 and dossier.json()["patient"]["display_name"].startswith("LIEN"), dossier.text
    opinion = doctor.patch(f"{link_api}/fiche", json={"expert_opinion": "Avis donné après Pro Santé Connect."},
                           headers={"X-CSRF-Token": dossier.json()["csrf_token"]})
    assert opinion.status_code == 200, opinion.text
    admin = logged_in(agent, agent.add_account(Role.ADMIN))
    logins = [r["detail"] for r in audit_items(agent, admin, patient_id=patient_id) if r["action"] == "link.login"]
    assert any("Pro Santé Connect, RPPS 99700123456 vérifié" in d for d in logins), logins


def test_a_link_without_rpps_learns_it_and_another_doctor_is_refused(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    link_api, _ = invited_link(agent, "99700123456")
    stranger, landed = open_with_psc(link_api, provider, Person("899700555666", "Jean", "AUTRE"))
    assert landed.status_code == 403 and "ce lien a été envoyé à un autre médecin" in html.unescape(landed.text)
    assert stranger.get(f"{link_api}/dossier").status_code == 401  # nothing opened

    open_link, _ = invited_link(agent, None)  # typed by hand, without RPPS: Pro Santé Connect gives it
    doctor, landed = open_with_psc(open_link, provider, CLAIRE)
    assert landed.status_code == 200 and doctor.get(f"{open_link}/dossier").status_code == 200


def test_a_forged_or_revoked_link_starts_nothing(stack: tuple[LiveAgent, Provider]) -> None:
    agent, provider = stack
    link_api, patient_id = invited_link(agent, CLAIRE.idnat[1:])
    room, token = link_api.rsplit("/", 2)[-2:]
    forged = f"{agent.url}{API}/links/{room}/{token[:-4]}AAAA"
    assert_error(requests.get(f"{forged}/psc/start"), 403, "link_refused")
    # Started while the link was good, finished after it was revoked: no dossier opens.
    provider.approve_as = CLAIRE
    doctor = requests.Session()
    url = doctor.get(f"{link_api}/psc/start").json()["url"]
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    (dossier,) = nurse.get(f"{agent.url}{API}/dossiers", params={"patient_id": patient_id}).json()["items"]
    (invitation,) = nurse.get(f"{agent.url}{API}/dossiers/{dossier['id']}").json()["invitations"]
    assert nurse.delete(f"{agent.url}{API}/dossiers/{dossier['id']}/invitations/{invitation['id']}").ok
    landed = doctor.get(url, timeout=30)
    assert landed.status_code == 403 and "Ce lien n'ouvre plus le télédossier" in html.unescape(landed.text)
    assert doctor.get(f"{link_api}/dossier").status_code == 401
