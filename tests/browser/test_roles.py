"""What each role sees after login: an admin lands on the audit trail and filters it; a technician
is told, in French, that the role gives no access to residents' files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from agent.access.roles import Role
from tests.browser.kiosk import API, CONSULTATIONS, DOSSIERS, shot, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser

AUDIT = "Journal des accès"


def cells(page: Page, column: int) -> Locator:
    """Cells of the audit table's column (1-based: date, user, action, patient, address, result)."""
    return page.locator(f"table.records tbody tr td:nth-child({column})")


def test_admin_lands_on_the_audit_trail_and_filters_it(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    # A nurse logs in and reads a resident's identity: the trail gets rows under her login and
    # one under that resident's id.
    nurse = demo_agent.add_account(Role.NURSE)
    client = demo_agent.login(nurse)
    patients = client.get(f"{demo_agent.url}{API}/patients").json()["items"]
    patient_id = patients[0]["id"]
    assert client.get(f"{demo_agent.url}{API}/patients/{patient_id}").status_code == 200

    admin = demo_agent.add_account(Role.ADMIN)
    sign_in(page, demo_agent, admin)
    expect(page.locator(".topbar .user .role")).to_have_text("Administrateur·rice")
    expect(page.get_by_role("heading", level=1)).to_have_text(AUDIT)
    expect(page.get_by_role("navigation").get_by_role("button", name="Journal", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("columnheader")).to_have_text(["Date", "Utilisateur", "Action", "Patient", "Adresse", "Résultat"])
    rows = page.locator("table.records tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 10
    actions = cells(page, 3).all_inner_texts()
    assert any(a.startswith("Connexion") for a in actions), actions
    assert any(a.startswith("Création d'une identité") for a in actions), actions
    for action in actions:  # every action has its French label, no raw code such as "patient.read"
        assert not any(code in action for code in ("login", "logout", "session.", "patient.", "dossier.", "audit.")), action
    expect(page.locator("table.records tbody .badge").first).to_have_text("Réussi")
    expect(page.get_by_text(DOSSIERS, exact=True)).to_have_count(0)
    shot(page, artifacts, "audit-admin.png")

    page.locator("#filter-actor").fill(nurse.login)
    page.get_by_role("button", name="Filtrer", exact=True).tap()
    # Newest first: the read, one list record per patient shown (each patient's data was seen), the login.
    shown = len(patients)
    expect(cells(page, 2).locator("button.linkish")).to_have_text([nurse.login] * (shown + 2))
    expect(cells(page, 3)).to_have_text(
        [re.compile(r"^Lecture d'une identité")] + [re.compile(r"^Liste des identités")] * shown + [re.compile(r"^Connexion")])
    expect(cells(page, 4).locator("button.linkish")).to_have_count(shown + 1)
    expect(cells(page, 2).locator(".hint")).to_have_text(["Infirmier·ère"] * (shown + 2))
    shot(page, artifacts, "audit-filtered.png")

    cells(page, 4).locator("button.linkish", has_text=patient_id[:8]).first.tap()  # its read, then its list record
    expect(page.locator("#filter-patient")).to_have_value(patient_id)
    expect(page.locator("#filter-actor")).to_have_value("")
    # The resident's creation by the demo nurse shows now, and nothing about anyone else.
    expect(cells(page, 3).filter(has_text="Création d'une identité")).to_have_count(1)
    patient_cells = cells(page, 4).all_inner_texts()
    assert patient_cells and all(text == patient_id[:8] for text in patient_cells), patient_cells
    assert set(cells(page, 2).locator("button.linkish").all_inner_texts()) == {"infirmiere", nurse.login}

    page.get_by_role("button", name="Tout afficher", exact=True).tap()
    expect(page.locator("#filter-patient")).to_have_value("")
    expect(cells(page, 4).filter(has_text="—").first).to_be_visible()

    # An admin's pages are the trail, the directory and the accounts; the activity (residents'
    # files), opened anyway, tells where the trail is instead.
    expect(page.get_by_role("navigation").get_by_role("button")).to_have_text(["Journal", "Annuaire", "Comptes"])
    page.goto(f"{demo_agent.url}/#/activite")
    expect(page.get_by_text("Pas d'accès aux dossiers", exact=True)).to_be_visible()
    expect(page.get_by_text("Le journal des accès est disponible dans le menu « Journal ».")).to_be_visible()
    expect(page.locator("li.row")).to_have_count(0)


def test_audit_offers_older_records_and_the_empty_note_only_when_they_apply(
        page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = demo_agent.add_account(Role.NURSE)
    demo_agent.login(nurse)  # one record: her login
    admin = demo_agent.add_account(Role.ADMIN)
    sign_in(page, demo_agent, admin)
    older = page.get_by_role("button", name="Plus anciens", exact=True)
    empty_note = page.get_by_text("Aucun enregistrement ne correspond à ces filtres.", exact=True)

    page.locator("#filter-actor").fill(nurse.login)
    page.get_by_role("button", name="Filtrer", exact=True).tap()
    expect(cells(page, 2).locator("button.linkish")).to_have_text([nurse.login])
    expect(empty_note).to_be_hidden()  # there is a record
    expect(older).to_be_hidden()  # and nothing older than the one record

    page.locator("#filter-actor").fill("personne")
    page.get_by_role("button", name="Filtrer", exact=True).tap()
    expect(page.locator("table.records tbody tr")).to_have_count(0)
    expect(empty_note).to_be_visible()
    shot(page, artifacts, "audit-empty.png")
    expect(older).to_be_hidden()


# Words of English or raw codes that the agent may slip into an audit record's detail line.
ENGLISH = re.compile(r"\b\d+ of \d+\b|\b(of|by|from|actor|user|patient_id)\b|=|\((nurse|doctor|technician|admin)\)")


def test_audit_details_are_in_french(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    """The line under each action (its detail) is read by an admin of a French EHPAD."""
    nurse = demo_agent.add_account(Role.NURSE)
    client = demo_agent.login(nurse)
    patients = client.get(f"{demo_agent.url}{API}/patients")
    dossiers = client.get(f"{demo_agent.url}{API}/dossiers")
    assert patients.status_code == dossiers.status_code == 200
    records = len(patients.json()["items"]) + len(dossiers.json()["items"]) + 1  # one per patient shown, the login

    admin = demo_agent.add_account(Role.ADMIN)
    sign_in(page, demo_agent, admin)
    page.locator("#filter-actor").fill(nurse.login)
    page.get_by_role("button", name="Filtrer", exact=True).tap()
    expect(cells(page, 2).locator("button.linkish")).to_have_text([nurse.login] * records)
    filtered = cells(page, 3).locator(".hint").all_inner_texts()
    page.get_by_role("button", name="Tout afficher", exact=True).tap()
    expect(cells(page, 2).locator("button.linkish").first).to_have_text(admin.login)  # the admin's own filtered read
    details = filtered + cells(page, 3).locator(".hint").all_inner_texts()
    english = sorted({d for d in details if ENGLISH.search(d)})
    shot(page, artifacts, "audit-details.png")
    assert not english, f"audit details not in French: {english}"


def test_technician_is_told_the_role_gives_no_access_to_files(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    technician = demo_agent.add_account(Role.TECHNICIAN)
    sign_in(page, demo_agent, technician)
    expect(page.locator(".topbar .user .role")).to_have_text("Technicien·ne")
    # A technician lands on the call's quality, their page; the activity says it is not for them.
    expect(page.get_by_role("heading", name="Appel en cours : qualité")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("button")).to_have_text(["Activité", "Appel : technique", "Capteurs"])  # no audit trail
    page.get_by_role("button", name="Activité").tap()
    expect(page.get_by_text("Pas d'accès aux dossiers", exact=True)).to_be_visible()
    expect(page.get_by_text("Votre rôle (technicien·ne) ne donne pas accès aux dossiers des résidents.", exact=True)).to_be_visible()
    expect(page.get_by_text(DOSSIERS, exact=True)).to_have_count(0)
    expect(page.get_by_text(CONSULTATIONS, exact=True)).to_have_count(0)
    expect(page.locator("li.row")).to_have_count(0)
    expect(page.get_by_text("LEFEBVRE Jeanne")).to_have_count(0)
    assert page.request.get(f"{demo_agent.url}{API}/dossiers").status == 403
    shot(page, artifacts, "technician.png")
