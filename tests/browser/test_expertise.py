"""A téléexpertise end to end in Chromium (issue 15): the nurse asks it from the resident's page on
the kiosk (no slot, an answer awaited within 48 hours), the expert's SMS says so, the expert opens
the dossier from their link (no call offered), writes and signs; the kiosk announces the answer.
The call itself is refused for such a dossier."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from agent.access.roles import Role
from tests.api.helpers import patient
from tests.browser.kiosk import shot, sign_in
from tests.browser.test_specialist_page import Cart, open_with_code, specialist_cart
from tests.browser.test_touch import check_screen
from tests.loopback import eventually

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with specialist_cart(tmp_path_factory.mktemp("expertise")) as made:
        yield made


def test_the_nurse_asks_an_opinion_the_expert_answers_in_writing_and_the_kiosk_hears_it(browser: Browser, cart: Cart, artifacts: Path) -> None:
    resident = cart.nurse.post(cart.url("/patients"), json=patient(birth_name="LEROY", first_names=["Germaine"], sex="F",
                                                                   birth_date="1933-06-20", confirm_duplicate=True)).json()
    kiosk_context = browser.new_context(viewport=DESKTOP, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    kiosk = kiosk_context.new_page()
    sign_in(kiosk, cart.agent, cart.agent.add_account(Role.NURSE))
    kiosk.goto(f"{cart.agent.url}/#/resident/{resident['id']}")
    kiosk.get_by_role("button", name="Demander une téléexpertise").click()
    expect(kiosk.get_by_role("heading", name="Demander une téléexpertise")).to_be_visible()
    kiosk.get_by_label("Nom de l'expert").fill("MARTIN")
    kiosk.get_by_label("Prénom").fill("Lucie")
    kiosk.get_by_label("Spécialité").fill("Dermatologie")
    kiosk.get_by_label("Téléphone portable").fill("0611223344")
    kiosk.get_by_label("Motif").fill("Plaie du talon gauche")
    kiosk.get_by_label("Question posée à l'expert").fill("La plaie s'étend depuis une semaine : faut-il changer le pansement ou adresser ?")
    kiosk.get_by_text("48 heures").click()
    check_screen(kiosk, "demande de téléexpertise")
    shot(kiosk, artifacts, "kiosque-teleexpertise-demande.png")
    kiosk.get_by_role("button", name="Envoyer la demande à l'expert").click()

    expect(kiosk.get_by_role("heading", name="Téléexpertise : avis écrit, sans appel")).to_be_visible()
    expect(kiosk.get_by_text("faut-il changer le pansement ou adresser ?")).to_be_visible()
    expect(kiosk.locator("#enter-room")).to_have_count(0)  # no call to enter
    shot(kiosk, artifacts, "kiosque-teleexpertise-dossier.png")
    dossier_id = re.search(r"#/dossier/([0-9a-f-]+)", kiosk.url).group(1)
    with kiosk.expect_response(lambda r: "/documents/news?since=" in r.url, timeout=15_000):
        pass  # the kiosk listens from before the expert answers (it polls every few seconds)

    text = eventually(lambda: [t["text"] for t in cart.sms.texts if t["to"] == "+33611223344"])[-1]
    assert "demande de téléexpertise, avis attendu avant le" in text
    link = re.search(r"(https?://\S+/s/\S+)", text).group(1)

    doctor_context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    doctor = doctor_context.new_page()
    open_with_code(doctor, cart, link, "+33611223344")
    expect(doctor.get_by_text("Téléexpertise (sans appel) : avis attendu avant le")).to_be_visible()
    expect(doctor.get_by_text("Question posée :")).to_be_visible()
    expect(doctor.get_by_role("link", name="Rejoindre l'appel")).to_have_count(0)
    doctor.screenshot(path=str(artifacts / "specialiste-teleexpertise.png"), full_page=True)
    doctor.get_by_label("Avis de l'expert").fill("Plaie d'allure veineuse : compression et pansement hydrocolloïde. Revoir dans 7 jours.")
    doctor.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(doctor.get_by_text("Avis enregistré.")).to_be_visible()
    doctor.get_by_role("button", name="Signer et clôturer").click()
    doctor.get_by_role("button", name="Confirmer la signature (définitive)").click()
    expect(doctor.get_by_text("Signé par Dr Lucie Martin")).to_be_visible()
    doctor_context.close()

    kiosk.bring_to_front()
    notice = kiosk.locator(".news-item")
    expect(notice).to_contain_text("Réponse à la téléexpertise de Dr Lucie Martin", timeout=15_000)
    expect(notice).to_contain_text("LEROY Germaine")
    shot(kiosk, artifacts, "kiosque-teleexpertise-reponse.png")
    kiosk_context.close()
    answered = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()
    assert answered["state"] == "closed" and answered["kind"] == "teleexpertise" and "compression" in answered["fiche"]["expert_opinion"]
