"""« Envoyer par messagerie sécurisée » in Chromium at the kiosk's 1280x800: the nurse sends the
report and a PDF of the dossier to a doctor's MSSanté address, and sees it sent; the operator on
loopback (real SMTP over implicit TLS that requires the cart's client certificate) got it. A cart
without its [mssante] section says so instead of the form. The admin keeps the professionals'
MSSanté addresses on the directory's page, and the nurse is offered them."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, logged_in
from tests.browser.kiosk import agent_in, shot, sign_in
from tests.browser.test_dossier_page import new_dossier as dossier_under_way
from tests.browser.test_touch import check_screen
from tests.documents import samples
from tests.live import LiveAgent, free_port
from tests.notify.mssante_server import CART_CN, OperatorInbox, Pki, make_pki, operator

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


def with_mssante(pki: Pki, port: int) -> str:
    """A cart's configuration whose [mssante] section is complete, the operator on loopback at `port`."""
    return f"""
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
"""


def test_the_nurse_sends_the_report_to_a_doctors_mssante_address(page: Page, tmp_path: Path, artifacts: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    inbox = OperatorInbox()
    ordonnance = samples.pdf(["Ordonnance", "Pansement hydrocolloïde"])
    with operator(pki, "tls", inbox) as port, agent_in(tmp_path, demo=True, config_toml=with_mssante(pki, port)) as agent:
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


def test_the_admin_keeps_the_mssante_addresses_and_the_nurse_is_offered_them(page: Page, tmp_path: Path, artifacts: Path) -> None:
    """On the directory's page (« Annuaire », admins): an address outside the MSSanté domains is
    refused in the agent's words, a right one is listed, an address emptied is cleared; the nurse's
    send box then offers the professional who has one, and not the one cleared. Nothing is sent."""
    with agent_in(tmp_path, demo=True, config_toml=with_mssante(make_pki(tmp_path / "pki"), free_port())) as agent:
        dossier_id = new_dossier(agent, samples.pdf(["Ordonnance"]))
        sign_in(page, agent, agent.add_account(Role.ADMIN))
        page.get_by_role("button", name="Annuaire").tap()
        garnier = page.locator(".directory-page tbody tr", has_text="Dr Marc Garnier")
        expect(garnier.locator("td.mssante-address")).to_contain_text("Aucune adresse")

        garnier.get_by_role("button", name="Ajouter l'adresse MSSanté de Dr Marc Garnier").tap()
        address = page.get_by_label("Adresse MSSanté de Dr Marc Garnier", exact=True)
        expect(address).to_be_focused()
        address.fill("marc.garnier@gmail.com")
        page.get_by_role("button", name="Enregistrer", exact=True).tap()
        expect(page.locator(".mssante-editor .alert")).to_have_text(
            "« marc.garnier@gmail.com » n'est pas une adresse de messagerie sécurisée de santé (domaine attendu : mssante.fr). "
            "Pour un destinataire sans MSSanté, utilisez « Envoyer au résident ».")
        check_screen(page, "annuaire : adresse MSSanté refusée")
        shot(page, artifacts, "annuaire-mssante-refusee.png")
        address.fill(f"  {GARNIER}  ")
        page.get_by_role("button", name="Enregistrer", exact=True).tap()
        expect(page.get_by_text("Adresse MSSanté de Dr Marc Garnier enregistrée.")).to_be_visible()
        expect(page.locator(".mssante-editor")).to_have_count(0)
        expect(garnier.locator("td.mssante-address")).to_contain_text(GARNIER)
        expect(garnier.get_by_role("button", name="Modifier l'adresse MSSanté de Dr Marc Garnier")).to_have_text("Modifier")

        petit = page.locator(".directory-page tbody tr", has_text="Dr Claire Petit")
        petit.get_by_role("button", name="Ajouter l'adresse MSSanté de Dr Claire Petit").tap()
        page.get_by_label("Adresse MSSanté de Dr Claire Petit", exact=True).fill("claire.petit@chu-tours.mssante.fr")
        page.get_by_role("button", name="Enregistrer", exact=True).tap()
        expect(petit.locator("td.mssante-address")).to_contain_text("claire.petit@chu-tours.mssante.fr")
        petit.get_by_role("button", name="Modifier l'adresse MSSanté de Dr Claire Petit").tap()
        page.get_by_label("Adresse MSSanté de Dr Claire Petit", exact=True).fill("")
        page.get_by_role("button", name="Enregistrer", exact=True).tap()
        expect(page.get_by_text("Adresse MSSanté de Dr Claire Petit effacée.")).to_be_visible()
        expect(petit.locator("td.mssante-address")).to_contain_text("Aucune adresse")
        check_screen(page, "annuaire avec les adresses MSSanté")
        garnier.scroll_into_view_if_needed()
        shot(page, artifacts, "annuaire-mssante.png")

        page.get_by_role("button", name="Se déconnecter").tap()
        sign_in(page, agent, agent.add_account(Role.NURSE))
        page.goto(f"{agent.url}/#/dossier/{dossier_id}")
        section = page.locator("section.mssante")
        section.get_by_role("button", name="Envoyer par messagerie sécurisée").tap()
        offered = section.get_by_label(f"Dr Marc Garnier — ORL — {GARNIER}")
        expect(offered).to_be_visible()
        expect(section.locator("label.check", has_text="Dr Claire Petit")).to_have_count(0)
        offered.check()
        section.locator("form legend").first.evaluate("legend => legend.scrollIntoView({block: 'start'})")
        page.mouse.wheel(0, -140)  # below the sticky top bars
        page.wait_for_timeout(200)
        shot(page, artifacts, "mssante-destinataire-annuaire.png")


GARNIER = "marc.garnier@chu-tours.mssante.fr"
