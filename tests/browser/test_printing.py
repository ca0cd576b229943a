"""Printing from a dossier's page in Chromium, as the nurse does it at the 1280x800 kiosk, against a
real CUPS (tests/printing/cups_server.py): the report to a PDF printer (cups-pdf, the pages read
back), a prescription to a printer that runs out of paper and then gets paper, and CUPS down."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from agent.access.roles import Role
from tests.api.helpers import API, patient
from tests.browser.kiosk import shot, sign_in
from tests.browser.test_touch import check_screen
from tests.documents import samples
from tests.live import LiveAgent, running_agent
from tests.printing.cups_server import CupsServer, available, cups_server

pytestmark = [pytest.mark.browser, pytest.mark.skipif(available() is not None, reason=str(available()))]


@dataclass
class Setting:
    agent: LiveAgent
    cups: CupsServer
    pdf_out: Path
    floor_out: Path
    nurse: requests.Session
    dossier_id: str


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    """A cart printing through a private cupsd (`[printing] printer` empty: CUPS's default destination,
    the PDF printer) with a dossier holding a prescription."""
    with cups_server() as cups:
        pdf_out = cups.add_pdf_printer("bureau-infirmier", info="Bureau infirmier")
        floor_out = cups.add_test_printer("pharmacie")
        cups.set_default("bureau-infirmier")
        with running_agent(tmp_path_factory.mktemp("agent"), printing={"server": cups.address}) as agent:
            nurse = agent.login(agent.add_account(Role.NURSE))
            made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="LEBRETON", first_names=["Germaine"], sex="F",
                                                                         birth_date="1930-09-14", confirm_duplicate=True)).json()
            dossier = nurse.post(f"{agent.url}{API}/dossiers", json={
                "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
                "specialist": {"name": "ROUX", "first_name": "Antoine", "specialty": "Dermatologie", "email": "dr.roux@example.fr"},
                "slot": {"now": True}, "confirm_overlap": True}).json()
            nurse.patch(f"{agent.url}{API}/dossiers/{dossier['id']}/fiche", json={"reason": "Plaie du talon gauche"})
            added = nurse.post(f"{agent.url}{API}/dossiers/{dossier['id']}/documents", data={"kind": "ordonnance"},
                               files={"file": ("ordonnance.pdf", samples.pdf(["Ordonnance", "Pansement hydrocolloïde"]))})
            assert added.status_code == 201, added.text
            yield Setting(agent, cups, pdf_out, floor_out, nurse, dossier["id"])


def _at_the_dossier(page: Page, setting: Setting) -> None:
    sign_in(page, setting.agent, setting.agent.add_account(Role.NURSE))
    page.goto(f"{setting.agent.url}/#/dossier/{setting.dossier_id}")
    expect(page.get_by_role("heading", name="LEBRETON Germaine")).to_be_visible()


def _texts(pdf: bytes) -> list[str]:
    made_at = re.compile(r"\d{2}/\d{2}/\d{4} à \d{2}:\d{2}")  # « édité le … »: the minute may turn between two renderings
    return [made_at.sub("…", " ".join((p.extract_text() or "").split())) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_the_nurse_prints_the_report_and_sees_it_printed(page: Page, setting: Setting, artifacts: Path) -> None:
    _at_the_dossier(page, setting)
    button = page.get_by_role("button", name="Imprimer le compte rendu")
    button.scroll_into_view_if_needed()
    button.tap()
    state = page.locator(".fiche .print-state")
    expect(state.locator(".badge")).to_have_text("imprimé")
    expect(state).to_contain_text("Imprimé sur « bureau-infirmier ».")
    expect(button).to_be_enabled()
    shot(page, artifacts, "impression-compte-rendu-imprime.png")

    on_paper = max(setting.pdf_out.glob("*-job_*.pdf"), key=lambda p: p.stat().st_mtime).read_bytes()  # cups-pdf wrote it before the job completed
    downloaded = setting.nurse.get(f"{setting.agent.url}{API}/dossiers/{setting.dossier_id}/report.pdf").content
    assert _texts(on_paper) == _texts(downloaded)
    assert "LEBRETON Germaine" in _texts(on_paper)[0] and "Plaie du talon gauche" in " ".join(_texts(on_paper))


def test_out_of_paper_then_paper_back(page: Page, setting: Setting, artifacts: Path) -> None:
    setting.cups.set_default("pharmacie")
    setting.cups.set_mode("pharmacie", "media-empty")
    try:
        _at_the_dossier(page, setting)
        row = page.locator("li.document", has_text="Ordonnance")
        row.get_by_role("button", name="Imprimer « ordonnance.pdf »").tap()
        state = row.locator(".print-state")
        expect(state.locator(".badge")).to_have_text("plus de papier")
        expect(state).to_contain_text("Plus de papier dans « pharmacie » : remettez du papier.")
        expect(row.get_by_role("button", name="Imprimer « ordonnance.pdf »")).to_be_disabled()  # not twice once the paper is back
        expect(state.get_by_role("button", name="Annuler l'impression")).to_be_visible()
        shot(page, artifacts, "impression-plus-de-papier.png")
        check_screen(page, "impression en attente de papier")  # touch targets, text sizes, no sideways scroll

        setting.cups.set_mode("pharmacie", "ok")  # paper put back: the page, polling, sees the job come out
        expect(state.locator(".badge")).to_have_text("imprimé", timeout=10_000)
        expect(state.get_by_role("button", name="Annuler l'impression")).to_have_count(0)
        row.screenshot(path=str(artifacts / "impression-papier-remis.png"))
    finally:
        setting.cups.set_mode("pharmacie", "ok")
        setting.cups.set_default("bureau-infirmier")
    assert [p.read_bytes() for p in setting.floor_out.glob("job-*.pdf")] == [
        setting.nurse.get(f"{setting.agent.url}{API}/dossiers/{setting.dossier_id}/documents/{row.get_attribute('data-document')}").content]


def test_cups_down_says_so_and_nothing_is_lost(page: Page, setting: Setting, artifacts: Path) -> None:
    _at_the_dossier(page, setting)
    setting.cups.stop()
    try:
        button = page.get_by_role("button", name="Imprimer le compte rendu")
        button.scroll_into_view_if_needed()
        button.tap()
        alert = page.locator(".fiche .print-state").get_by_role("alert")
        expect(alert).to_have_text("Le service d'impression (CUPS) ne répond pas : rien n'a été imprimé, le document reste dans le "
                                   "télédossier. Réessayez dans un instant ; si cela dure, prévenez le support technique.")
        expect(button).to_be_enabled()
        expect(page.locator("li.document", has_text="Ordonnance")).to_be_visible()  # the dossier is as it was
        shot(page, artifacts, "impression-cups-injoignable.png")
        check_screen(page, "impression, CUPS injoignable")
    finally:
        setting.cups.start()
    button.tap()  # CUPS back: the same tap prints
    expect(page.locator(".fiche .print-state .badge")).to_have_text("imprimé")
