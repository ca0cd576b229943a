"""The teleconsultation creation wizard (seed 000 §2.2), driven through Chromium as a nurse uses it:
taps and typing from "Création" to the dossier page, against a live agent with the demo data whose
invitations leave through a real SMTP relay and a real HTTP SMS gateway on loopback.

Steps: Recherche d'identité → Validation de l'identité → Consentement → Accompagnant → Médecin
requis → Créneau → Validation. Every step is photographed (test-artifacts/wizard-*.png) and passes
the touchscreen checks of test_touch.py."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect

from agent.access.roles import Role
from agent.config import load_config
from agent.demo import seed
from agent.links.invitation import settings_from
from agent.store.database import DATABASE_NAME, connect
from tests.browser.kiosk import API, CHROMIUM, CHROMIUM_ARGS, LOCK, UNLOCK, display_name, shot, sign_in
from tests.browser.test_touch import check_screen
from tests.live import Account, LiveAgent, free_port, running_agent
from tests.loopback import Inbox, SmsGateway, eventually, link_in, sms_gateway, smtp_server

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")  # the browser's time zone (conftest) and the agent's
STEPS = ["Recherche d'identité", "Validation de l'identité", "Consentement", "Accompagnant", "Médecin requis",
         "Créneau", "Validation"]
NEXT = "Suivant"
BACK = "Retour"
CREATE = "Créer le télédossier et inviter"
OVERLAP_CONFIRM = "Programmer quand même"
ALONE = "Résident seul avec l'équipe soignante"
WITH_RELATIVE = "Résident accompagné d'un proche"
WITH_PROFESSIONAL = "Résident accompagné d'un professionnel de santé"
DRAFT = f"{API}/wizard/draft"


@dataclass
class Cart:
    agent: LiveAgent
    inbox: Inbox
    sms: SmsGateway

    def emails_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.inbox.received if address in r.recipients]

    def texts_to(self, number: str) -> list[str]:
        return [t["text"] for t in self.sms.texts if t["to"] == number]


@pytest.fixture(scope="module")
def browser(browser: Browser) -> Iterator[Browser]:
    """Chromium as the cart must run it, in French: with LANG=fr_FR its date and time fields read
    jj/mm/aaaa and 14:30, not 11/26/2026 and 02:30 PM (given Debian's chromium-l10n, without which
    it stays in English). The wizard's tests pass either way: the dates are also said in words."""
    french = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"})
    try:
        yield french
    finally:
        french.close()


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    """One agent with the demo data for the module, its emails and SMS going to loopback servers and
    its links pointing at itself. Each test signs in a nurse of its own (drafts are per user), and
    looks only at the messages of the addresses it typed: the tests do not disturb each other."""
    inbox, gateway = Inbox(), SmsGateway()
    root = tmp_path_factory.mktemp("wizard")
    port = free_port()
    with smtp_server(inbox) as smtp_port, sms_gateway(gateway) as sms_url:
        sections = {
            "server": {"public_url": f"http://127.0.0.1:{port}"},
            "dossiers": {"establishment": "EHPAD Les Tilleuls"},
            "mail": {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none",
                     "sender": "Chariot <chariot@tilleuls.example>"},
            "sms": {"gateway_url": sms_url},
        }
        data = root / "data"
        data.mkdir()
        db = connect(data / DATABASE_NAME)
        try:
            seed(db, settings_from(load_config(None, sections)))
        finally:
            db.close()
        with running_agent(root, data_dir=data, port=port, **sections) as agent:
            yield Cart(agent, inbox, gateway)


# --- a nurse's gestures --------------------------------------------------------------------------

def start(page: Page, cart: Cart) -> Account:
    """A nurse of her own signs in and taps "Création" in the header."""
    nurse = cart.agent.add_account(Role.NURSE)
    sign_in(page, cart.agent, nurse)
    page.get_by_role("navigation").get_by_role("button", name="Création").tap()
    at_step(page, 0)
    return nurse


def at_step(page: Page, index: int) -> None:
    current = page.locator(".stepbar li[aria-current=step]")
    expect(current).to_contain_text(STEPS[index])
    expect(current.locator(".num")).to_have_text(str(index + 1))


def tap(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).tap()


def next_step(page: Page, index: int) -> None:
    """Tap "Suivant" and land on step `index`."""
    tap(page, NEXT)
    at_step(page, index)


def pick(page: Page, text: str) -> None:
    """Tap one of the big choices (consent, accompaniment, slot, a professional of the directory)."""
    page.locator("label.big-choice", has_text=text).tap()


def option(page: Page, text: str) -> None:
    """Tap one of the small choices (search mode, sex, duration, where the companion is)."""
    page.locator("label.option", has_text=text).tap()


def search(page: Page, name: str, mode: str | None = None) -> None:
    """Type in the one box (searched as typed); with a `mode`, use the detailed search instead."""
    if not mode:
        page.locator("#resident-q").fill(name)
        return
    details = page.locator("details.detailed-search")
    if details.get_attribute("open") is None:
        details.locator("summary").tap()
    page.locator("#name").fill(name)
    option(page, mode)
    tap(page, "Rechercher")


def results(page: Page) -> Locator:
    return page.locator("table.records tbody tr")


def choose_resident(page: Page, who: str) -> None:
    row = results(page).filter(has_text=who)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Choisir").tap()
    at_step(page, 1)
    expect(page.locator(".identity-name")).to_have_text(who)


def to_consent(page: Page) -> None:
    """Steps 1 and 2: "Dupond", phonetic, finds DUPONT Marcel; his identity card is checked."""
    search(page, "Dupond", "Phonétique")
    choose_resident(page, "DUPONT Marcel")
    next_step(page, 2)


def consent_given(page: Page) -> None:
    pick(page, "Consentement recueilli")
    next_step(page, 3)


def companion(page: Page, kind: str, name: str, first_name: str, *, mobile: str | None = None) -> None:
    """Step 4 with a companion, present or (with a mobile number) joining from afar."""
    pick(page, kind)
    expect(page.locator("#companion-name")).to_be_focused()  # what comes next: the keyboard is up
    page.locator("#companion-name").fill(name)
    page.locator("#companion-first-name").fill(first_name)
    if mobile:
        option(page, "À distance")
        page.locator("#companion-mobile").fill(mobile)
    next_step(page, 4)


def from_directory(page: Page, query: str, who: str) -> None:
    page.locator("#directory-search").fill(query)
    expect(page.locator(".list.directory label.big-choice")).to_have_count(1)
    pick(page, who)
    next_step(page, 5)


def now(page: Page) -> None:
    pick(page, "Maintenant")
    next_step(page, 6)


def create(page: Page) -> str:
    """Tap the last step's button: the dossier page opens. Returns the dossier's id. The demo's
    running consultation, and the module's earlier ones, may hold the cart at the chosen time:
    the wizard then names the other consultation and the nurse confirms (asserted in
    test_resident_alone_with_a_directory_specialist_now)."""
    tap(page, CREATE)
    overlap = page.locator(".overlap-box")
    expect(overlap.or_(page.locator(".dossier-page h1"))).to_be_visible()
    if overlap.is_visible():
        tap(page, OVERLAP_CONFIRM)
    expect(page).to_have_url(re.compile(r"#/dossier/[0-9a-f-]{36}$"))
    expect(page.locator(".dossier-page h1")).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def invitations(page: Page) -> Locator:
    return page.locator(".invitations > li.invitation")


def api_dossier(page: Page, cart: Cart, dossier_id: str) -> dict:
    """The dossier as the API gives it, read with the nurse's own session (links are not shown)."""
    reply = page.request.get(f"{cart.agent.url}{API}/dossiers/{dossier_id}")
    assert reply.ok, reply.text()
    return reply.json()


def email_with(cart: Cart, address: str, link: str) -> EmailMessage:
    """The (first) email to `address` carrying `link`: the demo's own dossiers mail the same
    doctors, and "Renvoyer l'invitation" mails the same link again."""
    return eventually(lambda: [m for m in cart.emails_to(address) if link in m.get_content()])[0]


def draft_saved(page: Page, containing: str = ""):  # noqa: ANN201 (Playwright's EventContextManager)
    """Waits for the wizard's next save of its draft on the agent (~0.6 s after typing stops) that
    holds `containing`: a save asked earlier (a step change) may still be on its way."""
    return page.expect_response(lambda r: r.url.endswith(DRAFT) and r.request.method == "PUT" and r.ok
                                and containing in (r.request.post_data or ""))


def age_of(born: date) -> int:
    today = datetime.now(PARIS).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def tomorrow_at(hour: int, minute: int) -> datetime:
    day = datetime.now(PARIS).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


# --- whole journeys ---------------------------------------------------------------------------------

def test_resident_alone_with_a_directory_specialist_now(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    check_screen(page, "wizard 1, recherche")
    search(page, "Dupond", "Phonétique")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("83,33 %")
    expect(results(page).get_by_role("button", name="Choisir")).to_be_in_viewport()
    shot(page, artifacts, "wizard-1-recherche.png")
    choose_resident(page, "DUPONT Marcel")

    card = page.locator(".identity-card")
    expect(card).to_contain_text("Qualifiée")
    expect(card).to_contain_text("02/11/1931")
    expect(card).to_contain_text("Marcel, André")
    expect(card).to_contain_text("Lyon 3e Arrondissement (69) · INSEE 69383")
    expect(page.locator(".wizard-head")).to_contain_text("Pour DUPONT Marcel, né le 02/11/1931")
    shot(page, artifacts, "wizard-2-validation-identite.png")
    check_screen(page, "wizard 2, validation de l'identité")
    next_step(page, 2)

    shot(page, artifacts, "wizard-3-consentement.png")
    check_screen(page, "wizard 3, consentement")
    consent_given(page)

    pick(page, ALONE)
    expect(page.locator("#companion-name")).to_be_hidden()
    shot(page, artifacts, "wizard-4-accompagnant.png")
    check_screen(page, "wizard 4, accompagnant")
    next_step(page, 4)

    expect(page.locator(".list.directory label.big-choice")).to_have_count(4)  # the demo's directory
    expect(page.locator("#directory-search")).not_to_be_focused()  # no on-screen keyboard over the list
    shot(page, artifacts, "wizard-5-medecin-requis.png")
    check_screen(page, "wizard 5, médecin requis")
    from_directory(page, "Roux", "Dr Antoine Roux")

    pick(page, "Maintenant")
    expect(page.locator("#slot-date")).to_be_hidden()
    shot(page, artifacts, "wizard-6-creneau.png")
    check_screen(page, "wizard 6, créneau")
    next_step(page, 6)

    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("DUPONT Marcel, 02/11/1931")
    expect(summary).to_contain_text("Consentement recueilli")
    expect(summary).to_contain_text(ALONE)
    expect(summary).to_contain_text("Dr Antoine Roux — Dermatologie")
    expect(summary).to_contain_text("Maintenant · 30 min")
    expect(page.get_by_role("button", name=CREATE, exact=True)).to_be_in_viewport()
    page.locator("#reason").fill("Lésion suspecte de la joue")
    shot(page, artifacts, "wizard-7-validation.png")
    check_screen(page, "wizard 7, validation")
    # The demo's consultation of Mme LEFEBVRE is running: one cart, one room. The wizard names it.
    tap(page, CREATE)
    overlap = page.locator(".overlap-box")
    expect(overlap).to_contain_text("Le chariot est déjà pris à ce moment-là")
    expect(overlap).to_contain_text("LEFEBVRE Jeanne avec Dr Antoine Roux, de ")
    expect(page).to_have_url(re.compile(r"#/nouvelle"))  # nothing made yet
    shot(page, artifacts, "wizard-7-chariot-deja-pris.png")
    check_screen(page, "wizard 7, chariot déjà pris")
    dossier_id = create(page)

    expect(page.locator(".dossier-page h1")).to_have_text("DUPONT Marcel")
    expect(page.locator(".dossier-head .badge")).to_have_text("Programmée")
    expect(page.locator(".dossier-page")).to_contain_text("Lésion suspecte de la joue")
    expect(invitations(page)).to_have_count(1)
    invitation = invitations(page).first
    expect(invitation.locator(".who")).to_have_text("Médecin requis · Dr Antoine Roux")
    # The page follows the messages by itself: both end up "envoyé", without a reload.
    expect(invitation.locator(".delivery-sent")).to_have_count(2)
    expect(invitation.locator(".delivery-sent").filter(has_text="E-mail à antoine.roux@example.org")).to_contain_text("envoyé")
    expect(invitation.locator(".delivery-sent").filter(has_text="SMS au 06 12 34 56 01")).to_contain_text("envoyé aujourd'hui")
    shot(page, artifacts, "dossier-page.png")
    check_screen(page, "dossier")

    [sent] = api_dossier(page, cart, dossier_id)["invitations"]
    email = email_with(cart, "antoine.roux@example.org", sent["link"])
    assert "EHPAD Les Tilleuls" in email["Subject"]
    assert email.get_content().startswith("Bonjour Docteur Roux,")
    assert any(link_in(text) == sent["link"] for text in cart.texts_to("+33612345601"))
    # The specialist's link opens the specialist's own page (a one-time code, then the dossier),
    # in French and naming no resident; a relative's opens the room (test_consent_refused...).
    page_of_link = requests.get(link_in(email.get_content()), timeout=10)
    assert page_of_link.status_code == 200
    assert '<html lang="fr">' in page_of_link.text and "EHPAD Les Tilleuls" in page_of_link.text
    assert "DUPONT" not in page_of_link.text

    # The dossier is on the activity view, among the running and scheduled teleconsultations.
    tap(page, "Retour à l'activité")
    expect(page.locator(f"[data-consultation='{dossier_id}']")).to_contain_text("DUPONT Marcel")


def test_relative_joining_from_afar_tomorrow_at_half_past_two(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    to_consent(page)
    consent_given(page)
    pick(page, WITH_RELATIVE)
    page.locator("#companion-name").fill("Martin")
    page.locator("#companion-first-name").fill("Lucie")
    option(page, "À distance")
    page.locator("#companion-email").fill("lucie.martin@famille.example")
    shot(page, artifacts, "wizard-4-accompagnant-proche.png")
    check_screen(page, "wizard 4, proche à distance")
    next_step(page, 4)
    from_directory(page, "cardio", "Dr Claire Petit")

    pick(page, "Programmer")
    start_at = tomorrow_at(14, 30)
    page.locator("#slot-date").fill(start_at.date().isoformat())
    page.locator("#slot-time").press_sequentially("1430")  # 14:30 in any browser language, never 02:30 PM
    expect(page.locator("#slot-time")).to_have_value("14:30")
    expect(page.locator(".said")).to_have_text("Rendez-vous demain, 14 h 30 ; la salle ouvre à 14 h 15.")
    option(page, "20 min")
    shot(page, artifacts, "wizard-6-creneau-programme.png")
    check_screen(page, "wizard 6, créneau programmé")
    next_step(page, 6)
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("demain, 14 h 30 · 20 min")
    expect(summary).to_contain_text(f"{WITH_RELATIVE} : MARTIN Lucie — invité à distance (lucie.martin@famille.example)")
    dossier_id = create(page)

    expect(invitations(page)).to_have_count(2)
    expect(invitations(page).locator(".who")).to_have_text(["Médecin requis · Dr Claire Petit", "Proche · MARTIN Lucie"])
    expect(page.locator(".dossier-page")).to_contain_text("demain, 14 h 30 · 20 min")
    expect(page.locator(".dossier-page")).to_contain_text("demain de 14 h 15 à 15 h 35")
    expect(invitations(page).nth(1).locator(".delivery-sent")).to_have_count(1)
    shot(page, artifacts, "dossier-page-proche.png")

    relative = next(i for i in api_dossier(page, cart, dossier_id)["invitations"] if i["role"] == "relative")
    email = email_with(cart, "lucie.martin@famille.example", relative["link"])
    assert email.get_content().startswith("Bonjour Lucie Martin,")
    room = requests.get(relative["link"], timeout=10)
    assert room.status_code == 200 and "pas encore ouverte" in room.text and "14 h 15" in room.text


def test_present_professional_and_a_specialist_typed_by_hand(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    to_consent(page)
    consent_given(page)
    companion(page, WITH_PROFESSIONAL, "Bertin", "Luc")

    tap(page, "Je ne trouve pas le professionnel")
    page.locator("#specialist-name").fill("Fabre")
    page.locator("#specialist-first-name").fill("Hugo")
    page.locator("#specialist-specialty").fill("Neurologie")
    tap(page, NEXT)  # no email, no mobile: the doctor could not be invited
    expect(page.get_by_role("alert")).to_have_text(
        "Le professionnel reçoit l'invitation : indiquez son e-mail ou son téléphone portable.")
    at_step(page, 4)
    page.locator("#specialist-email").fill("hugo.fabre@chu.example")
    page.locator("#specialist-mobile").fill("06 55 44 33 22")
    shot(page, artifacts, "wizard-5-medecin-saisi.png")
    check_screen(page, "wizard 5, médecin saisi")
    next_step(page, 5)
    now(page)
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text(f"{WITH_PROFESSIONAL} : BERTIN Luc — présent auprès du résident")
    expect(summary).to_contain_text("Dr Hugo Fabre — Neurologie")

    cart.sms.status = 503  # the SMS gateway is in trouble when the dossier is made
    try:
        dossier_id = create(page)
        expect(invitations(page)).to_have_count(1)  # the professional at the resident's side gets none
        invitation = invitations(page).first
        expect(invitation.locator(".who")).to_have_text("Médecin requis · Dr Hugo Fabre")
        expect(page.locator(".dossier-page")).to_contain_text("BERTIN Luc (présent)")
        # The page follows the queue by itself: the email leaves, the SMS waits and says why.
        expect(invitation.locator(".delivery-sent")).to_have_text(re.compile(r"^E-mail à hugo\.fabre@chu\.example — envoyé"))
        waiting = invitation.locator(".delivery-pending")
        expect(waiting).to_contain_text("SMS au 06 55 44 33 22 — en attente, nouvel essai automatique. La passerelle SMS")
        assert not re.search(r"HTTP|[Ee]rror|Traceback", waiting.inner_text()), waiting.inner_text()
        shot(page, artifacts, "dossier-page-sms-en-attente.png")
    finally:
        cart.sms.status = 200
    # "Renvoyer l'invitation" sends again at once; the page shows each channel's latest message.
    tap(page, "Renvoyer l'invitation")
    expect(page.get_by_text("Invitation renvoyée.")).to_be_visible()
    expect(invitation.locator(".delivery")).to_have_count(2)
    expect(invitation.locator(".delivery-sent")).to_have_count(2)
    expect(invitation.locator(".delivery-sent").filter(has_text="SMS au 06 55 44 33 22")).to_contain_text("envoyé")

    [invited] = api_dossier(page, cart, dossier_id)["invitations"]
    assert invited["role"] == "specialist"
    assert email_with(cart, "hugo.fabre@chu.example", invited["link"]).get_content().startswith("Bonjour Docteur Fabre,")
    assert any(invited["link"] in text for text in cart.texts_to("+33655443322"))

    # Revoking a link takes two taps: the first only arms the button.
    tap(page, "Révoquer le lien")
    tap(page, "Toucher encore pour révoquer")
    expect(invitations(page).first.locator(".badge")).to_have_text("Révoquée")
    assert requests.get(invited["link"], timeout=10).status_code == 403


# --- identities ---------------------------------------------------------------------------------------

def test_an_unknown_resident_gets_a_new_identity(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    search(page, "Zéphyrin")
    expect(page.locator(".results .count")).to_have_text(
        "Aucun résident ne correspond à « Zéphyrin », même en orthographe approchante ou phonétique.")
    tap(page, "Créer une identité")
    expect(page.locator("#new-birth_name")).to_have_value("ZÉPHYRIN")  # what was searched, not typed again

    tap(page, "Valider l'identité")  # first name, birth date and sex missing
    alert = page.locator(".identity-form [role=alert]")
    expect(alert).to_have_text("Pour créer l'identité, indiquez : le premier prénom, la date de naissance, le sexe.")
    expect(page.locator("#new-first_name")).to_have_attribute("aria-invalid", "true")

    page.locator("#new-first_name").fill("Odile")
    page.locator("#new-other_first_names").fill("Marie, Jeanne")
    page.locator("#new-birth_date").fill("1937-04-05")
    expect(page.locator(".birth-date .said")).to_have_text(f"5 avril 1937 ({age_of(date(1937, 4, 5))} ans)")
    expect(alert).to_be_hidden()  # typing corrects what it said
    option(page, "Féminin")
    page.locator("#new-mobile").fill("06 11 22 33 44")

    # The birthplace as the identity card says it: the start of its name, then a tap on the commune;
    # its INSEE code comes with it. Typed but never picked, it is not sent as a guess.
    commune = page.locator("#new-birth_commune")
    commune.press_sequentially("villeurb")
    choices = page.locator(".commune-choices .commune-choice")
    expect(choices.first).to_contain_text("Villeurbanne (69)")
    shot(page, artifacts, "wizard-identity-commune.png")
    check_screen(page, "wizard, commune de naissance")
    tap(page, "Valider l'identité")
    expect(alert).to_have_text("Touchez la commune de naissance dans la liste (ou effacez-la si elle n'est pas connue).")
    expect(page.locator(".commune-choices")).to_be_hidden()  # the list went with the tap elsewhere
    commune.tap()
    choices.filter(has_text="Villeurbanne (69)").tap()
    expect(commune).to_have_value("Villeurbanne (69)")
    expect(page.locator(".commune-field .said")).to_have_text("Code INSEE 69266")
    shot(page, artifacts, "wizard-identity-form.png")
    check_screen(page, "wizard, création d'identité")
    tap(page, "Valider l'identité")

    at_step(page, 1)
    card = page.locator(".identity-card")
    expect(card.locator(".identity-name")).to_have_text("ZÉPHYRIN Odile")
    expect(card).to_contain_text("Provisoire")
    expect(card).to_contain_text("Odile, Marie, Jeanne")
    expect(card).to_contain_text("05/04/1937")
    expect(card).to_contain_text("Villeurbanne (69) · INSEE 69266")
    expect(page.locator(".wizard-head")).to_contain_text("Pour ZÉPHYRIN Odile, née le 05/04/1937")
    next_step(page, 2)


def test_a_likely_duplicate_offers_the_existing_resident(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    search(page, "Dupond", "Exacte")  # no one spelt so
    expect(results(page)).to_have_count(0)
    tap(page, "Créer une identité")
    page.locator("#new-first_name").fill("Marcel")
    page.locator("#new-birth_date").fill("1931-11-02")
    option(page, "Masculin")
    tap(page, "Valider l'identité")

    duplicates = page.locator(".duplicates")
    expect(duplicates).to_be_visible()
    expect(duplicates).to_contain_text("DUPONT Marcel")
    expect(duplicates.get_by_role("button", name="C'est cette personne")).to_be_in_viewport()
    shot(page, artifacts, "wizard-duplicate.png")
    check_screen(page, "wizard, doublon probable")
    duplicates.get_by_role("button", name="C'est cette personne").tap()

    at_step(page, 1)
    expect(page.locator(".identity-name")).to_have_text("DUPONT Marcel")
    expect(page.locator(".identity-card")).to_contain_text("Qualifiée")  # the demo's, not a new one
    reply = page.request.get(f"{cart.agent.url}{API}/patients", params={"name": "DUPOND"})
    assert reply.json()["total"] == 0, reply.json()  # nothing was created


# --- the rules of each step -------------------------------------------------------------------------

def test_consent_refused_needs_a_comment(page: Page, cart: Cart, artifacts: Path) -> None:
    start(page, cart)
    to_consent(page)
    tap(page, NEXT)
    expect(page.get_by_role("alert")).to_have_text("Indiquez si le consentement a été recueilli.")
    pick(page, "Consentement non recueilli")
    expect(page.get_by_role("alert")).to_be_hidden()  # the choice answers what it said
    expect(page.locator("#consent-comment")).to_be_focused()
    tap(page, NEXT)
    expect(page.get_by_role("alert")).to_have_text("Sans consentement, un commentaire doit justifier la téléconsultation.")
    at_step(page, 2)
    shot(page, artifacts, "wizard-3-consentement-refuse.png")
    check_screen(page, "wizard 3, consentement non recueilli")
    page.locator("#consent-comment").fill("Résident hors d'état d'exprimer sa volonté, tutelle prévenue")
    next_step(page, 3)

    # The son joins from home, invited by SMS; the room opens now.
    companion(page, WITH_RELATIVE, "Lambert", "Jean", mobile="06 98 76 54 32")
    from_directory(page, "Nguyen", "Dr Linh Nguyen")
    now(page)
    expect(page.locator("dl.summary")).to_contain_text(
        "Consentement non recueilli : Résident hors d'état d'exprimer sa volonté, tutelle prévenue")
    dossier_id = create(page)
    expect(page.locator(".dossier-page")).to_contain_text("Résident hors d'état d'exprimer sa volonté, tutelle prévenue")
    expect(invitations(page).filter(has_text="Proche · LAMBERT Jean").locator(".delivery-sent")).to_have_text(
        re.compile(r"^SMS au 06 98 76 54 32 — envoyé aujourd'hui, \d{1,2}\sh\s\d{2}$"))  # "11 h 54", unbreakable

    relative = next(i for i in api_dossier(page, cart, dossier_id)["invitations"] if i["role"] == "relative")
    [text] = eventually(lambda: [t for t in cart.texts_to("+33698765432") if relative["link"] in t])
    room = requests.get(link_in(text), timeout=10)
    assert room.status_code == 200
    assert "/static/call/join.js" in room.text and 'data-name="Jean LAMBERT"' in room.text  # the call's page
    assert "EHPAD Les Tilleuls" in room.text and "DUPONT" not in room.text


def test_back_reload_and_lock_keep_what_was_typed(page: Page, cart: Cart, artifacts: Path) -> None:
    nurse = start(page, cart)
    to_consent(page)
    consent_given(page)
    companion(page, WITH_RELATIVE, "Garnier", "Rose")
    from_directory(page, "Garnier", "Dr Marc Garnier")
    at_step(page, 5)

    # Back from Créneau to Accompagnant: the companion is still there.
    tap(page, BACK)
    at_step(page, 4)
    expect(page.locator(".big-choice:has(input:checked)")).to_contain_text("Dr Marc Garnier")
    tap(page, BACK)
    at_step(page, 3)
    expect(page.locator("#companion-name")).to_have_value("Garnier")
    expect(page.locator("#companion-first-name")).to_have_value("Rose")
    expect(page.locator("label.big-choice", has_text=WITH_RELATIVE).locator("input")).to_be_checked()

    # A reload in the middle of typing resumes on the same step with what was typed.
    with draft_saved(page, "Rose-Marie"):
        page.locator("#companion-first-name").fill("Rose-Marie")
    page.reload()
    at_step(page, 3)
    expect(page.locator("#companion-first-name")).to_have_value("Rose-Marie")
    expect(page.locator("#companion-name")).to_have_value("Garnier")
    expect(page.locator(".wizard-head")).to_contain_text("Pour DUPONT Marcel")

    # The stepbar's done steps are buttons too.
    next_step(page, 4)
    page.locator(".stepbar button", has_text="Consentement").tap()
    at_step(page, 2)
    expect(page.locator("label.big-choice", has_text="Consentement recueilli").locator("input")).to_be_checked()
    next_step(page, 3)
    next_step(page, 4)
    next_step(page, 5)

    # Locking the cart and unlocking it resumes too, even right after a touch: touching
    # "Verrouiller" saves the draft at once rather than 0.6 s later, when the cart is locked.
    option(page, "45 min")
    with draft_saved(page):
        tap(page, LOCK)
    expect(page.locator(".gate.locked")).to_be_visible()
    page.locator("#password").fill(nurse.password)
    page.locator("#otp").fill(nurse.code())
    tap(page, UNLOCK)
    expect(page.locator(".topbar .user .name")).to_have_text(display_name(nurse))
    at_step(page, 5)
    expect(page.locator("label.option", has_text="45 min").locator("input")).to_be_checked()
    now(page)
    expect(page.locator("dl.summary")).to_contain_text(f"{WITH_RELATIVE} : GARNIER Rose-Marie — présent auprès du résident")
    expect(page.locator("dl.summary")).to_contain_text("Maintenant · 45 min")

    # "Abandonner", touched twice, empties the wizard and the saved draft.
    tap(page, "Abandonner")
    tap(page, "Toucher encore pour abandonner")
    at_step(page, 0)
    expect(page.locator("#name")).to_have_value("")
    assert page.request.get(f"{cart.agent.url}{DRAFT}").json() == {"draft": None}
