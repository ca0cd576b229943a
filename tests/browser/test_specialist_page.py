"""The specialist, on a phone and at a desk, opens the invitation link in Chromium: asks for a
code, reads it from the SMS (a real HTTP gateway on loopback), opens the dossier, writes the
expert's opinion and signs it."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import CartBase, logged_in, patient
from tests.browser.kiosk import PageProblems, shot, sign_in
from tests.browser.test_touch import check_screen
from tests.live import free_port, running_agent
from tests.loopback import SmsGateway, eventually, sms_gateway

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@dataclass
class Cart(CartBase):
    sms: SmsGateway
    nurse: requests.Session


@contextlib.contextmanager
def specialist_cart(root: Path) -> Iterator[Cart]:
    """A cart whose invitations' codes go out by SMS to a gateway the test reads, and a nurse on it."""
    gateway = SmsGateway()
    port = free_port()
    with sms_gateway(gateway) as url, running_agent(root, port=port, server={"public_url": f"http://127.0.0.1:{port}"}, sms={"gateway_url": url},
                                                     dossiers={"establishment": "EHPAD Les Tilleuls"}) as agent:
        yield Cart(agent, gateway, logged_in(agent, agent.add_account(Role.NURSE)))


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with specialist_cart(tmp_path_factory.mktemp("specialist")) as made:
        yield made


def scheduled_dossier(cart: Cart, mobile: str, resident: tuple[str, str, str] = ("FONTAINE", "Odette", "1935-02-11"),
                      doctor: tuple[str, str] = ("ROUX", "Antoine")) -> dict:
    name, first_name, born = resident
    made = cart.nurse.post(cart.url("/patients"), json=patient(birth_name=name, first_names=[first_name], sex="F",
                                                               birth_date=born, confirm_duplicate=True)).json()
    reply = cart.nurse.post(cart.url("/dossiers"), json={
        "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
        "specialist": {"name": doctor[0], "first_name": doctor[1], "specialty": "Dermatologie", "mobile": mobile},
        "slot": {"now": True}, "confirm_overlap": True, "reason": "Plaie du talon gauche"})
    dossier = reply.json()
    path = f"/dossiers/{dossier['id']}"
    cart.nurse.patch(cart.url(f"{path}/fiche"), json={"history": "Diabète de type 2", "observations": "Plaie de 2 cm, bords nets"})
    cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "temperature", "value": "37,8"})
    cart.nurse.post(cart.url(f"{path}/transitions"), json={"to": "in_progress"})
    return dossier


def open_with_code(page: Page, cart: Cart, link: str, mobile: str, bare: bool = False) -> None:
    page.goto(link if bare else link + "?vue=dossier")  # the bare link lands there too; the room's page links this way
    expect(page.get_by_role("heading", name="Accès au télédossier")).to_be_visible()
    before = len(cart.sms.texts)
    page.get_by_role("button", name="Recevoir un code").click()
    expect(page.get_by_text("Envoyé par SMS à +33 6 •• •• ••")).to_be_visible()
    text = eventually(lambda: [t["text"] for t in cart.sms.texts[before:] if t["to"] == mobile and "code" in t["text"]])[-1]
    page.get_by_label("Code reçu").fill(re.search(r"\b(\d{6})\b", text).group(1))
    page.get_by_role("button", name="Ouvrir le télédossier").click()


def test_on_a_phone_the_specialist_reads_writes_and_signs(browser: Browser, cart: Cart, artifacts: Path) -> None:
    dossier = scheduled_dossier(cart, "0612345681")
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    try:
        page.goto(dossier["invitations"][0]["link"] + "?vue=dossier")
        expect(page.get_by_role("button", name="Recevoir un code")).to_be_visible()
        expect(page.get_by_text("FONTAINE")).to_have_count(0)  # nothing of the patient before the code
        shot(page, artifacts, "specialist-code.png")
        open_with_code(page, cart, dossier["invitations"][0]["link"], "+33612345681")

        expect(page.get_by_role("heading", name="FONTAINE Odette")).to_be_visible()
        expect(page.get_by_text("Plaie du talon gauche")).to_be_visible()
        expect(page.get_by_text("37,8 °C")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Avis de l'expert").fill("Plaie d'allure artérielle. Doppler artériel des membres inférieurs.")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Avis enregistré.")).to_be_visible()
        page.screenshot(path=str(artifacts / "specialist-dossier.png"), full_page=True)
        check_screen(page, "dossier du médecin, téléphone")

        page.get_by_role("button", name="Signer et clôturer").click()
        page.get_by_role("button", name="Confirmer la signature (définitive)").click()
        expect(page.get_by_text("Signé par Dr Antoine Roux")).to_be_visible()
        expect(page.get_by_label("Avis de l'expert")).to_be_disabled()
        expect(page.get_by_text("Clôturée", exact=True)).to_be_visible()
        shot(page, artifacts, "specialist-signed.png")
    finally:
        context.close()
    assert not problems.page_errors and not problems.console_errors, problems
    staff = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()
    assert staff["state"] == "closed" and staff["fiche"]["signed_by"] == "Dr Antoine Roux"


def test_the_nurses_open_dossier_shows_the_opinion_and_the_signature_as_the_specialist_gives_them(
        browser: Browser, page: Page, cart: Cart, artifacts: Path) -> None:
    """The nurse keeps the dossier open on the cart while the specialist writes from a phone: the
    opinion, then the signature and the closed state come on her screen by themselves."""
    dossier = scheduled_dossier(cart, "0612345682", resident=("GARNIER", "Louise", "1931-06-02"))
    sign_in(page, cart.agent, cart.agent.add_account(Role.NURSE))
    page.goto(f"{cart.agent.url}/#/dossier/{dossier['id']}")
    fiche = page.locator(".fiche")
    expect(fiche).to_contain_text("En attente de l'avis du médecin requis.")
    page.evaluate("window.sameScreen = true")  # gone if the page were loaded again

    phone = browser.new_context(viewport=PHONE, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        specialist = phone.new_page()
        open_with_code(specialist, cart, dossier["invitations"][0]["link"], "+33612345682")
        specialist.get_by_label("Avis de l'expert").fill("Ulcère veineux. Bandes de compression, contrôle dans 15 jours.")
        specialist.get_by_role("button", name="Enregistrer").click()
        expect(specialist.get_by_text("Avis enregistré.")).to_be_visible()
        expect(fiche).to_contain_text("Bandes de compression, contrôle dans 15 jours.", timeout=15_000)

        specialist.get_by_role("button", name="Signer et clôturer").click()
        specialist.get_by_role("button", name="Confirmer la signature (définitive)").click()
        expect(specialist.get_by_text("Signé par Dr Antoine Roux")).to_be_visible()
    finally:
        phone.close()
    expect(fiche).to_contain_text("Signé par Dr Antoine Roux", timeout=15_000)
    expect(page.locator(".dossier-head .badge")).to_have_text("Clôturée")
    expect(page.locator("#fiche-observations")).to_be_disabled()  # a signed fiche is read only
    notice = page.locator(".news-item", has_text="Avis signé de Dr Antoine Roux")  # heard, and said to be here
    expect(notice).to_contain_text("sur ce télédossier, ci-dessous", timeout=15_000)
    expect(notice.get_by_role("button", name="Ouvrir le télédossier")).to_have_count(0)
    assert page.evaluate("window.sameScreen") is True
    shot(page, artifacts, "dossier-signe-par-le-specialiste.png")


def test_what_the_nurse_saves_comes_on_the_doctors_open_dossier(browser: Browser, cart: Cart) -> None:
    """The doctor opened the dossier early and is writing the opinion; the nurse saves the
    observations and takes a temperature: both come on the doctor's page by themselves, and the
    opinion being written stays."""
    dossier = scheduled_dossier(cart, "0612345683", resident=("MOREAU", "Yvonne", "1930-09-14"))
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        open_with_code(page, cart, dossier["invitations"][0]["link"], "+33612345683")
        expect(page.get_by_text("Plaie de 2 cm, bords nets")).to_be_visible()
        page.get_by_label("Avis de l'expert").fill("Plaie d'allure veineuse, à compléter")
        page.evaluate("window.sameScreen = true")

        path = f"/dossiers/{dossier['id']}"
        cart.nurse.post(cart.url(f"{path}/vitals"), json={"kind": "temperature", "value": "38,4"})
        expect(page.locator('[data-part="vitals"]')).to_contain_text("38,4 °C", timeout=15_000)
        cart.nurse.patch(cart.url(f"{path}/fiche"), json={"observations": "Plaie de 3 cm, fibrine au fond"})
        expect(page.locator('[data-part="observations"]')).to_contain_text("Plaie de 3 cm, fibrine au fond", timeout=15_000)
        expect(page.get_by_label("Avis de l'expert")).to_have_value("Plaie d'allure veineuse, à compléter")
        assert page.evaluate("window.sameScreen") is True
    finally:
        context.close()


def test_the_bare_link_lands_on_the_resident_the_reason_and_two_choices(browser: Browser, cart: Cart, artifacts: Path) -> None:
    """Issue 17, item 6 (seed 001): the dossier first, then « Rejoindre l'appel »; on a 390 px phone
    no label is cut; signing before any call warns."""
    fresh = scheduled_dossier(cart, "0612345686", resident=("ROY", "Lucie", "1931-01-02"))
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:  # back to « programmé »: the call has not happened (scheduled_dossier starts it)
        db.execute("UPDATE dossiers SET state = 'scheduled' WHERE id = ?", [fresh["id"]])
    db.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        open_with_code(page, cart, fresh["invitations"][0]["link"], "+33612345686", bare=True)
        first = page.locator(".first-screen")
        expect(first).to_contain_text("Motif : Plaie du talon gauche")
        expect(first.get_by_role("link", name="Ouvrir le télédossier")).to_be_visible()
        join_call = first.get_by_role("link", name="Rejoindre l'appel")
        expect(join_call).to_have_attribute("href", re.compile(r"\?vue=appel$"))
        shot(page, artifacts, "specialiste-premier-ecran.png")
        sign = page.get_by_role("button", name="Signer et clôturer")
        page.locator("#opinion").fill("Avis rédigé avant l'appel.")
        sign.tap()
        armed = page.get_by_role("button", name="La téléconsultation n'a pas encore eu lieu : signer quand même")
        expect(armed).to_be_visible()
        box = armed.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box  # wrapped, not cut
        check_screen(page, "premier écran du médecin, téléphone")
        join_call.tap()
        expect(page.get_by_text("Vérifiez votre caméra et votre micro")).to_be_visible()
        check_screen(page, "vérification caméra et micro, téléphone")
        # No camera in this browser: the doctor enters all the same, and the call names the resident.
        page.get_by_role("button", name=re.compile("^Rejoindre")).tap()
        expect(page.locator(".resident-on-call")).to_have_text(re.compile(r"^ROY Lucie, née le 02/01/1931 \(\d+ ans\)$"))
        expect(page.get_by_role("button", name="Quitter")).to_be_visible()
        shot(page, artifacts, "specialiste-appel-telephone.png")
        check_screen(page, "appel du médecin, téléphone")
        page.get_by_role("button", name="Quitter").tap()
    finally:
        context.close()


def test_a_wrong_code_says_so_in_french(page: Page, cart: Cart) -> None:
    dossier = scheduled_dossier(cart, "0612345682")
    page.goto(dossier["invitations"][0]["link"] + "?vue=dossier")
    page.get_by_role("button", name="Recevoir un code").click()
    page.get_by_label("Code reçu").fill("000000" if not any("000000" in t["text"] for t in cart.sms.texts) else "999999")
    page.get_by_role("button", name="Ouvrir le télédossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")


@pytest.mark.parametrize("second_doctor", [("ROUX", "Antoine", "0612345683"), ("NGUYEN", "Lan", "0612345684")],
                         ids=["one-doctor-two-dossiers", "two-doctors-one-workstation"])
def test_one_browser_with_two_links_shows_each_links_own_resident(browser: Browser, cart: Cart, artifacts: Path,
                                                                  second_doctor: tuple[str, str, str]) -> None:
    """Two links opened in one browser (a doctor asked about two residents, or two doctors on a
    shared hospital workstation): the second link's page asks its own code instead of showing the
    first resident, and each page keeps its own resident."""
    first = scheduled_dossier(cart, "0612345683")
    *doctor, mobile = second_doctor
    second = scheduled_dossier(cart, mobile, ("MOREAU", "Jeanne", "1931-07-04"), tuple(doctor))
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        first_page = context.new_page()
        open_with_code(first_page, cart, first["invitations"][0]["link"], "+33612345683")
        expect(first_page.get_by_role("heading", name="FONTAINE Odette")).to_be_visible()

        second_page = context.new_page()
        second_page.goto(second["invitations"][0]["link"] + "?vue=dossier")
        expect(second_page.get_by_role("button", name="Recevoir un code")).to_be_visible()
        expect(second_page.get_by_text("FONTAINE")).to_have_count(0)
        shot(second_page, artifacts, f"specialist-second-link-asks-its-code-{doctor[0].lower()}.png")
        open_with_code(second_page, cart, second["invitations"][0]["link"], "+33" + mobile[1:])
        expect(second_page.get_by_role("heading", name="MOREAU Jeanne")).to_be_visible()
        expect(second_page.get_by_text("née le 04/07/1931", exact=False)).to_be_visible()

        first_page.reload()
        expect(first_page.get_by_role("heading", name="FONTAINE Odette")).to_be_visible()
        expect(first_page.get_by_text("MOREAU")).to_have_count(0)
    finally:
        context.close()


def test_the_code_page_says_sending_until_the_sms_leaves_and_offers_the_email(page: Page, cart: Cart, artifacts: Path) -> None:
    """Issue 17, item 4: « Envoyé à … » showed while the SMS was still waiting. Now the page says
    what became of the message and offers the other way the code can come."""
    dossier = scheduled_dossier(cart, "0612345679", resident=("VIDAL", "Rose", "1937-06-09"))
    link = dossier["invitations"][0]["link"]
    # The doctor has an email too (from the directory in real life; here set on the participant).
    db = sqlite3.connect(cart.agent.data_dir / DATABASE_NAME)
    with db:
        db.execute("UPDATE participants SET email = 'a.roux@chu.example' WHERE id = ?", [dossier["invitations"][0]["participant_id"]])
    db.close()
    cart.sms.status = 503  # the SMS gateway is in trouble
    try:
        page.goto(link + "?vue=dossier")
        page.get_by_role("button", name="Recevoir un code").click()
        hint = page.locator("#code-hint")
        expect(hint).to_contain_text("n'est pas parti", timeout=10_000)
        expect(hint).not_to_contain_text("Envoyé")
        shot(page, artifacts, "specialiste-code-sms-en-attente.png")
        expect(page.get_by_role("button", name="Recevoir le code par e-mail")).to_be_visible()
        page.get_by_role("button", name="Recevoir le code par e-mail").click()
        expect(hint).to_contain_text("L'e-mail à a•••@chu.example n'est pas parti (Messagerie non configurée", timeout=10_000)
        cart.sms.status = 200
        page.get_by_role("button", name="Recevoir le code par SMS").click()
        expect(hint).to_contain_text("Envoyé par SMS à +33 6 •• •• ••", timeout=15_000)
    finally:
        cart.sms.status = 200
