"""« Envoyer par messagerie sécurisée » in Chromium at the kiosk's 1280x800: the nurse sends the
report and a PDF of the dossier to a doctor's MSSanté address, and sees it sent; the operator on
loopback (real SMTP over implicit TLS that requires the cart's client certificate) got it. A cart
without its [mssante] section says so instead of the form."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, logged_in
from tests.browser.kiosk import agent_in, shot, sign_in
from tests.browser.test_dossier_page import new_dossier as dossier_under_way
from tests.documents import samples
from tests.live import LiveAgent
from tests.notify.mssante_server import CART_CN, OperatorInbox, make_pki, operator

pytestmark = pytest.mark.browser
DOCTOR = "antoine.roux@chu-tours.mssante.fr"


def new_dossier(agent: LiveAgent, pdf: bytes) -> str:
    """The dossier page's own (a teleconsultation under way with the directory's doctor), with a PDF."""
    dossier_id = dossier_under_way(agent)
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    added = nurse.post(f"{agent.url}{API}/dossiers/{dossier_id}/documents", files={"file": ("ordonnance.pdf", pdf, "application/pdf")},
                       data={"kind": "ordonnance"})
    assert added.status_code == 201, added.text
    return dossier_id


def test_the_nurse_sends_the_report_to_a_doctors_mssante_address(page: Page, tmp_path: Path, artifacts: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    inbox = OperatorInbox()
    ordonnance = samples.pdf(["Ordonnance", "Pansement hydrocolloïde"])
    with operator(pki, "tls", inbox) as port, agent_in(tmp_path, demo=True, config_toml=f"""
[dossiers]
establishment = "EHPAD Les Tilleuls"

[mssante]
host = "localhost"
port = {port}
security = "tls"
client_certificate = "{pki.cart_cert}"
client_key = "{pki.cart_key}"
ca_file = "{pki.ca}"
sender = "chariot.tilleuls@ehpad-tilleuls.mssante.fr"
""") as agent:
        dossier_id = new_dossier(agent, ordonnance)
        admin = logged_in(agent, agent.add_account(Role.ADMIN))  # the directory's keepers record the doctor's MSSanté address
        kept = admin.put(f"{agent.url}{API}/directory/1/mssante", json={"address": DOCTOR})
        assert kept.status_code == 204, kept.text
        refused = admin.put(f"{agent.url}{API}/directory/1/mssante", json={"address": "antoine.roux@gmail.com"})
        assert refused.status_code == 422 and "n'est pas une adresse de messagerie sécurisée" in refused.json()["message"]
        sign_in(page, agent, agent.add_account(Role.NURSE))
        page.goto(f"{agent.url}/#/dossier/{dossier_id}")
        section = page.locator("section.mssante")
        section.get_by_role("button", name="Envoyer par messagerie sécurisée").tap()
        expect(section.get_by_text("Expéditeur : chariot.tilleuls@ehpad-tilleuls.mssante.fr")).to_be_visible()
        section.get_by_label(f"Dr Antoine Roux — Dermatologie — {DOCTOR}").check()  # looked up in the directory
        expect(section.get_by_label("Compte rendu de la téléconsultation (PDF, tel qu'il est maintenant)")).to_be_checked()
        section.get_by_label("ordonnance.pdf").check()
        section.get_by_label("Message au destinataire (facultatif)").fill("Bonjour Docteur, voici le compte rendu de Mme Garnier.")
        section.locator("form legend").first.evaluate("legend => legend.scrollIntoView({block: 'start'})")
        page.mouse.wheel(0, -140)  # below the sticky top bars
        page.wait_for_timeout(200)
        shot(page, artifacts, "mssante-form.png")
        section.get_by_role("button", name="Envoyer", exact=True).tap()
        expect(page.get_by_text(f"Envoi vers {DOCTOR} en cours.")).to_be_visible()
        line = section.locator("li.delivery").first
        expect(line).to_contain_text(f"Dr Antoine Roux ({DOCTOR})")
        expect(line).to_contain_text("envoyé", timeout=10_000)
        expect(line).to_have_class("delivery delivery-sent")
        expect(line).to_contain_text("Compte rendu de téléconsultation, ordonnance.pdf")
        section.scroll_into_view_if_needed()
        shot(page, artifacts, "mssante-sent.png")
        section.screenshot(path=str(artifacts / "mssante-sent-section.png"))

    [received] = inbox.received
    assert inbox.peers == [CART_CN] and received.recipients == [DOCTOR]
    assert received.message["Subject"] == "XDM/1.0/DDM+2 documents GARNIER Lucienne 17/05/1936"
    files = {part.get_filename(): part.get_content() for part in received.message.iter_attachments()}
    assert files["ordonnance.pdf"] == ordonnance
    assert files["Compte rendu de téléconsultation.pdf"].startswith(b"%PDF") and "IHE_XDM.ZIP" in files
    assert "Bonjour Docteur, voici le compte rendu de Mme Garnier." in received.message.get_body(("plain",)).get_content()


def test_a_cart_without_mssante_says_so(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    dossier_id = new_dossier(demo_agent, samples.pdf(["Ordonnance"]))
    sign_in(page, demo_agent, demo_agent.add_account(Role.NURSE))
    page.goto(f"{demo_agent.url}/#/dossier/{dossier_id}")
    section = page.locator("section.mssante")
    expect(section.get_by_role("status")).to_contain_text("La messagerie sécurisée de santé (MSSanté) n'est pas configurée sur ce chariot")
    expect(section.get_by_role("button", name="Envoyer par messagerie sécurisée")).to_have_count(0)
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(artifacts / "mssante-not-configured.png"))
