"""The kiosk's doors: login (with and without demo data), a refused login, lock and unlock, idle
lock, logout, and the 404 page, driven through Chromium on the cart's 1280x800 touchscreen."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from agent.access.roles import Role
from agent.api.errors import MESSAGES
from agent.demo import ACCOUNTS
from tests.browser.kiosk import (
    API,
    CONSULTATIONS,
    DOSSIERS,
    LOCK,
    LOGOUT,
    NURSE_LABEL,
    SWITCH_USER,
    UNLOCK,
    agent_in,
    display_name,
    fill_login,
    open_kiosk,
    shot,
    sign_in,
    unspent_code,
)
from tests.live import Account, LiveAgent

pytestmark = pytest.mark.browser

BAD_CREDENTIALS = MESSAGES["bad_credentials"][1]
DEMO_NURSE = next(a for a in ACCOUNTS if a.role is Role.NURSE)

# The demo's dossiers as the activity view must list them: running first, then scheduled by slot,
# awaiting report, closed (agent/demo.py, agent/dossier.py).
DEMO_DOSSIERS = [
    ("LEFEBVRE Jeanne", "En cours"),
    ("DUPONT Marcel", "Programmée"),
    ("ROUSSEAU Simone", "Programmée"),
    ("LAMBERT Germaine", "En attente du compte rendu"),
    ("CHEVALIER Yvette", "Clôturée"),
]
DEMO_CONSULTATIONS = DEMO_DOSSIERS[:3]
WHEN = re.compile(r"^(aujourd'hui|demain|hier|[a-zéû]+ \d{1,2} [a-zéû]+), \d{1,2} h \d{2} · \d+ min$")


def panel(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=title, exact=True)


def lock_screen(page: Page) -> Locator:
    return page.locator(".gate.locked")


def session_cookie(page: Page) -> str:
    cookies = [c for c in page.context.cookies() if c["name"] == "telecart_session"]
    assert len(cookies) == 1, cookies
    return cookies[0]["value"]


# --- login -------------------------------------------------------------------------------------

def test_nurse_logs_in_and_sees_the_demo_activity(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = Account(DEMO_NURSE.login, DEMO_NURSE.password, DEMO_NURSE.otp_secret, DEMO_NURSE.role)
    open_kiosk(page, demo_agent)
    expect(page.get_by_role("heading", name="Connexion", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_enabled()
    shot(page, artifacts, "login.png")

    fill_login(page, nurse.login, nurse.password, nurse.code())

    expect(page.locator(".topbar .user .name")).to_have_text(DEMO_NURSE.display_name)
    expect(page.locator(".topbar .user .role")).to_have_text(NURSE_LABEL)
    expect(page.get_by_role("button", name=LOCK, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=LOGOUT, exact=True)).to_be_visible()
    dossiers, consultations = panel(page, DOSSIERS), panel(page, CONSULTATIONS)
    expect(dossiers.get_by_role("heading", name=DOSSIERS, exact=True)).to_be_visible()
    expect(consultations.get_by_role("heading", name=CONSULTATIONS, exact=True)).to_be_visible()

    expect(dossiers.locator("li.row .who")).to_have_text([name for name, _ in DEMO_DOSSIERS])
    expect(dossiers.locator("li.row .badge")).to_have_text([state for _, state in DEMO_DOSSIERS])
    expect(dossiers.locator(".count")).to_have_text(f"{len(DEMO_DOSSIERS)} dossiers")
    # Each dossier row says who the resident is in French: "née le 14/03/1934 (91 ans) · reason".
    for meta in dossiers.locator("li.row .meta").all_inner_texts():
        assert re.match(r"^née? le \d{2}/\d{2}/\d{4} \(\d+ ans\) · \S", meta), meta

    # Only what is scheduled or running, the running one first.
    expect(consultations.locator("li.row .who")).to_have_text([name for name, _ in DEMO_CONSULTATIONS])
    expect(consultations.locator("li.row .badge")).to_have_text([state for _, state in DEMO_CONSULTATIONS])
    expect(consultations.locator(".count")).to_have_text("3 téléconsultations")
    for when in consultations.locator("li.row .when").all_inner_texts():
        assert WHEN.match(when), when
    expect(consultations.locator("li.row .meta")).to_have_text(
        ["Dr Antoine Roux — Dermatologie", "Dr Claire Petit — Cardiologie", "Dr Antoine Roux — Dermatologie"])
    expect(consultations.locator("li.row.now")).to_have_count(1)
    # No raw state code or English word reached the screen.
    text = page.locator("#app").inner_text()
    for word in ("in_progress", "scheduled", "awaiting_report", "draft", "closed", "undefined", "null", "NaN"):
        assert word not in text, f"{word!r} shown on the activity view"
    shot(page, artifacts, "activity-nurse.png")


def test_empty_data_dir_shows_both_empty_states(page: Page, live_agent: LiveAgent, artifacts: Path) -> None:
    nurse = live_agent.add_account(Role.NURSE)
    sign_in(page, live_agent, nurse)

    dossiers, consultations = panel(page, DOSSIERS), panel(page, CONSULTATIONS)
    expect(dossiers.locator(".empty .title")).to_have_text("Aucun télédossier")
    expect(dossiers.locator(".empty")).to_contain_text(
        "Les télédossiers créés sur ce chariot apparaîtront ici, du plus urgent au plus ancien.")
    expect(dossiers.locator(".count")).to_have_text("aucun")
    expect(consultations.locator(".empty .title")).to_have_text("Aucune téléconsultation prévue")
    expect(consultations.locator(".empty")).to_contain_text(
        "Les téléconsultations programmées ou en cours apparaîtront ici avec leur heure et le médecin requis.")
    expect(consultations.locator(".count")).to_have_text("aucune")
    expect(page.locator("li.row")).to_have_count(0)
    shot(page, artifacts, "activity-empty.png")


def test_wrong_password_shows_the_agents_french_message(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = demo_agent.add_account(Role.NURSE)
    open_kiosk(page, demo_agent)
    fill_login(page, nurse.login, "not-the-password", unspent_code(nurse))

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(BAD_CREDENTIALS)
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_enabled()
    expect(page.locator("#login")).to_have_value(nurse.login)
    expect(page.locator("#otp")).to_have_value("")
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.get_by_text(DOSSIERS)).to_have_count(0)
    expect(page.get_by_role("button", name=LOGOUT)).to_have_count(0)
    assert not [c for c in page.context.cookies() if c["name"] == "telecart_session"]
    shot(page, artifacts, "login-error.png")


# --- lock, unlock, switch user -------------------------------------------------------------------------

def lock(page: Page, agent: LiveAgent) -> Account:
    """A fresh nurse logged in through the form, who then taps "Verrouiller"."""
    nurse = agent.add_account(Role.NURSE)
    sign_in(page, agent, nurse)
    expect(panel(page, DOSSIERS).locator("li.row")).to_have_count(len(DEMO_DOSSIERS))
    page.get_by_role("button", name=LOCK, exact=True).tap()
    expect(lock_screen(page)).to_be_visible()
    return nurse


def test_lock_screen_shows_the_user_and_unlocks_with_password_and_fresh_code(
        page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    expect(panel(page, DOSSIERS).locator("li.row")).to_have_count(len(DEMO_DOSSIERS))
    cookie = session_cookie(page)

    page.get_by_role("button", name=LOCK, exact=True).tap()
    locked = lock_screen(page)
    expect(locked.get_by_role("heading", name="Poste verrouillé")).to_be_visible()
    expect(locked.get_by_role("heading", name="Reprendre la session")).to_be_visible()
    expect(locked.locator(".lead")).to_contain_text(display_name(nurse))
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.get_by_text("LEFEBVRE Jeanne")).to_have_count(0)
    expect(page.locator("#login")).to_have_count(0)  # the same user only: no login field
    expect(page.locator("#password")).to_be_focused()
    assert page.request.get(f"{demo_agent.url}{API}/dossiers").status == 423
    shot(page, artifacts, "lock.png")

    page.locator("#password").fill(nurse.password)
    page.locator("#otp").fill(nurse.code())
    page.get_by_role("button", name=UNLOCK, exact=True).tap()
    expect(page.locator(".topbar .user .name")).to_have_text(display_name(nurse))
    expect(panel(page, DOSSIERS).locator("li.row")).to_have_count(len(DEMO_DOSSIERS))
    expect(lock_screen(page)).to_have_count(0)
    assert session_cookie(page) == cookie  # the same session goes on
    assert page.request.get(f"{demo_agent.url}{API}/dossiers").status == 200


def test_wrong_password_on_the_lock_screen_shows_an_error_and_stays_locked(
        page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = lock(page, demo_agent)
    page.locator("#password").fill("not-the-password")
    page.locator("#otp").fill(unspent_code(nurse))
    page.get_by_role("button", name=UNLOCK, exact=True).tap()

    expect(lock_screen(page).get_by_role("alert")).to_have_text(BAD_CREDENTIALS)
    expect(lock_screen(page).locator(".lead")).to_contain_text(display_name(nurse))
    expect(page.locator("#otp")).to_have_value("")
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.locator("#login")).to_have_count(0)
    shot(page, artifacts, "lock-error.png")

    # The same user can still unlock: the refusal did not end the session.
    page.locator("#password").fill(nurse.password)
    page.locator("#otp").fill(nurse.code())
    page.get_by_role("button", name=UNLOCK, exact=True).tap()
    expect(page.locator(".topbar .user .name")).to_have_text(display_name(nurse))


def test_switch_user_on_the_lock_screen_logs_out(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    lock(page, demo_agent)
    cookie = session_cookie(page)
    page.get_by_role("button", name=SWITCH_USER, exact=True).tap()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login")).to_have_value("")
    expect(lock_screen(page)).to_have_count(0)
    expect(page.locator(".topbar")).to_have_count(0)
    # Switching user closed the session on the agent, not only on the screen.
    assert requests.get(f"{demo_agent.url}{API}/session", cookies={"telecart_session": cookie}).status_code == 401
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    expect(lock_screen(page)).to_have_count(0)


@pytest.fixture(scope="module")
def idle_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    """An agent whose kiosk locks after 3 seconds without a touch."""
    with agent_in(tmp_path_factory.mktemp("idle"), config_toml="[security]\nidle_lock_minutes = 0.05\n") as agent:
        yield agent


def test_idle_kiosk_locks_itself_and_stays_locked_after_reload(page: Page, idle_agent: LiveAgent, artifacts: Path) -> None:
    nurse = idle_agent.add_account(Role.NURSE)
    sign_in(page, idle_agent, nurse)
    expect(panel(page, DOSSIERS)).to_be_visible()
    signed_in = time.monotonic()

    expect(lock_screen(page)).to_be_visible(timeout=8_000)
    waited = time.monotonic() - signed_in
    assert 2.0 <= waited <= 6.0, f"locked after {waited:.1f}s of idle time, 3 s configured"
    expect(lock_screen(page).locator(".lead")).to_contain_text(display_name(nurse))
    expect(page.locator(".toast")).to_have_text("Poste verrouillé après inactivité.")
    expect(page.locator(".topbar")).to_have_count(0)
    shot(page, artifacts, "lock-idle.png")

    page.reload()
    expect(lock_screen(page)).to_be_visible()
    expect(lock_screen(page).locator(".lead")).to_contain_text(display_name(nurse))
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.locator("#login")).to_have_count(0)
    assert page.request.get(f"{idle_agent.url}{API}/session").json()["locked"] is True
    assert page.request.get(f"{idle_agent.url}{API}/dossiers").status == 423


def test_before_the_idle_lock_a_touch_keeps_the_nurse_in(page: Page, idle_agent: LiveAgent, artifacts: Path) -> None:
    """Issue 17, item 8: the last moments before the lock say so, with « toucher pour rester »."""
    sign_in(page, idle_agent, idle_agent.add_account(Role.NURSE))
    warning = page.locator(".idle-warning")
    expect(warning).to_be_visible(timeout=5_000)
    expect(warning).to_contain_text("le poste se verrouille dans")
    expect(warning).to_contain_text("Vos saisies sont conservées")
    shot(page, artifacts, "idle-avertissement.png")
    page.get_by_role("button", name="Toucher pour rester connecté(e)").tap()
    expect(warning).to_be_hidden()
    expect(page.locator(".topbar")).to_be_visible()
    expect(lock_screen(page)).to_have_count(0)


def test_a_nurse_who_keeps_touching_the_screen_is_not_locked_out(page: Page, idle_agent: LiveAgent, artifacts: Path) -> None:
    """Touches that reach no API (reading, scrolling the lists) keep the kiosk open: the next
    request must not find the session locked on the agent."""
    nurse = idle_agent.add_account(Role.NURSE)
    sign_in(page, idle_agent, nurse)
    heading = panel(page, DOSSIERS).get_by_role("heading", name=DOSSIERS)
    expect(heading).to_be_visible()
    until = time.monotonic() + 5.0  # longer than the 3 s idle time
    while time.monotonic() < until:
        heading.tap()
        page.wait_for_timeout(500)
    expect(lock_screen(page)).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith(f"{API}/dossiers")) as refreshed:
        page.get_by_role("button", name="Actualiser", exact=True).tap()
    shot(page, artifacts, "activity-after-touches.png")
    reply = refreshed.value
    assert reply.status == 200, f"the agent answered {reply.status} {reply.text()}: locked though the nurse kept touching the screen"
    expect(lock_screen(page)).to_have_count(0)
    expect(panel(page, DOSSIERS)).to_be_visible()


# --- logout ---------------------------------------------------------------------------------------

def test_logout_returns_to_login_and_closes_the_session(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    expect(panel(page, DOSSIERS).locator("li.row")).to_have_count(len(DEMO_DOSSIERS))
    assert page.request.get(f"{demo_agent.url}{API}/dossiers").status == 200
    cookie = session_cookie(page)

    page.get_by_role("button", name=LOGOUT, exact=True).tap()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator(".toast")).to_have_text("Vous êtes déconnecté(e).")
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.get_by_text("LEFEBVRE Jeanne")).to_have_count(0)
    shot(page, artifacts, "logout.png")

    assert page.request.get(f"{demo_agent.url}{API}/dossiers").status == 401
    # The old cookie, replayed by hand, opens nothing either: the session is closed on the agent.
    replayed = requests.get(f"{demo_agent.url}{API}/dossiers", cookies={"telecart_session": cookie})
    assert replayed.status_code == 401, replayed.text
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator(".topbar")).to_have_count(0)


# --- 404 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nowhere", "/static/nowhere.js"])
def test_unknown_address_shows_a_french_404_page(page: Page, demo_agent: LiveAgent, artifacts: Path, path: str) -> None:
    url = f"{demo_agent.url}{path}"
    reply = page.request.get(url)
    assert reply.status == 404
    assert reply.headers.get("content-type", "").startswith("text/html"), \
        f"{path}: 404 answered as {reply.headers.get('content-type')!r} with {len(reply.body())} bytes, not the French page"
    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page).to_have_title("Page introuvable")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_text("Cette adresse n'existe pas sur le chariot.")).to_be_visible()
    body = page.content()
    for leak in ("Traceback", "aiohttp", "File \"", "Exception", "Not Found"):
        assert leak not in body, f"{leak!r} on the 404 page"
    home = page.get_by_role("link", name="Revenir à l'accueil")
    expect(home).to_have_attribute("href", "/")
    box = home.bounding_box()
    assert box is not None and box["height"] >= 48, box
    if path == "/nowhere":
        shot(page, artifacts, "not-found.png")
    home.tap()
    expect(page.locator("#login")).to_be_visible()
    assert page.url == f"{demo_agent.url}/"
