"""What the browser tests share: the agents they start, the French texts they look for, what a
page did wrong, and the gestures of a nurse at the kiosk (open it, log in, take a screenshot)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, expect

from agent.access.roles import Role
from agent.config import load_config
from agent.demo import seed
from agent.links.invitation import settings_from
from agent.store.database import DATABASE_NAME, connect
from tests.live import Account, LiveAgent, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
API = "/api/v1"

# The French texts the tests look for (kiosk_ui/static/js/i18n.js).
SIGN_IN = "Se connecter"
LOCK = "Verrouiller"
UNLOCK = "Déverrouiller"
SWITCH_USER = "Changer d'utilisateur"
LOGOUT = "Se déconnecter"
NURSE_LABEL = "Infirmier·ère"
DOSSIERS = "Télédossiers"
CONSULTATIONS = "Téléconsultations programmées et en cours"


# --- agents -------------------------------------------------------------------------------------

@contextlib.contextmanager
def agent_in(root: Path, *, demo: bool = False, config_toml: str | None = None) -> Iterator[LiveAgent]:
    """An agent on a fresh data directory under `root`, filled with the demo data when `demo`, with
    the TOML configuration `config_toml` when given."""
    data = root / "data"
    data.mkdir()
    config = None
    if config_toml is not None:
        config = root / "telecart.toml"
        config.write_text(config_toml, encoding="utf-8")
    if demo:
        db = connect(data / DATABASE_NAME)
        try:
            seed(db, settings_from(load_config(config)))
        finally:
            db.close()
    agent = LiveAgent(data, free_port(), config=config).start()
    try:
        yield agent
    finally:
        agent.stop()


# --- pages --------------------------------------------------------------------------------------

@dataclass
class PageProblems:
    """What went wrong in a page's JavaScript, and every URL it requested."""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    # The browser's own words for a request the network refused (the agent restarting): the page
    # copes (it retries), and no script can silence them.
    NETWORK = ("Failed to load resource", "Error in connection establishment")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(words in message.text for words in self.NETWORK):
            self.console_errors.append(f"{message.text} ({message.location.get('url')}:{message.location.get('lineNumber')})")

    def on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}\n{error.stack or ''}")

    def foreign_hosts(self) -> set[str]:
        """Hosts other than 127.0.0.1 the page requested anything from (data: and blob: are local)."""
        hosts = set()
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                hosts.add(f"{parts.scheme}://{parts.netloc}")
        return hosts


def problems_of(page: Page) -> PageProblems:
    return page.problems  # type: ignore[attr-defined, no-any-return]


# --- kiosk helpers --------------------------------------------------------------------------------

def display_name(account: Account) -> str:
    """The display name tests.live gives the accounts it creates."""
    return f"Test {account.login}"


def unspent_code(account: Account) -> str:
    """The current one-time code, without moving the account's counter: for attempts with a wrong
    password, which the agent refuses before it looks at (and spends) the code."""
    return pyotp.TOTP(account.secret).now()


def open_kiosk(page: Page, agent: LiveAgent) -> None:
    """Load the kiosk and wait for its login form."""
    page.goto(f"{agent.url}/")
    expect(page.locator("#login")).to_be_visible()


def fill_login(page: Page, login: str, password: str, otp: str) -> None:
    page.locator("#login").fill(login)
    page.locator("#password").fill(password)
    page.locator("#otp").fill(otp)
    page.get_by_role("button", name=SIGN_IN, exact=True).tap()


def sign_in(page: Page, agent: LiveAgent, account: Account, name: str | None = None, timeout: float | None = None) -> None:
    """Log `account` in through the form and wait for the header with its name (`timeout` ms:
    longer for a page opened beside a call of several Chromium pages)."""
    open_kiosk(page, agent)
    fill_login(page, account.login, account.password, account.code())
    expect(page.locator(".topbar .user .name")).to_have_text(name or display_name(account), timeout=timeout)


# What JavaScript writes when a value is missing: never for a person to read (a null child given
# to replaceChildren is written "null").
LEAKED = re.compile(r"\b(?:null|undefined|NaN)\b|\[object \w+\]")


def shot(page: Page, artifacts: Path, name: str) -> None:
    """A screenshot for the team, and the screen checked for a leaked JavaScript placeholder."""
    page.screenshot(path=str(artifacts / name))
    text = page.evaluate("() => document.body.innerText")
    leaked = LEAKED.search(text)
    assert not leaked, f"{name} shows « {leaked.group(0)} »: …{text[max(0, leaked.start() - 80):leaked.end() + 40]}…"


# --- the technician's page (on the HTTPS listener, from a laptop or phone of the network) --------

def technicians_browser(browser: Browser, viewport: dict[str, int] | None = None) -> BrowserContext:
    """A technician's own browser on the EHPAD's network: the cart's certificate is self-signed."""
    return browser.new_context(viewport=viewport or VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris", ignore_https_errors=True)


def technician_page_url(agent: LiveAgent) -> str:
    return f"https://127.0.0.1:{agent.https_port}/technicien"


def at_the_technician_page(browser: Browser, agent: LiveAgent, account: Account, viewport: dict[str, int] | None = None) -> tuple[BrowserContext, Page]:
    """`account` typed into the technician page's login form (whatever the page answers)."""
    context = technicians_browser(browser, viewport)
    page = context.new_page()
    page.goto(technician_page_url(agent))
    page.get_by_label("Identifiant").fill(account.login)
    page.get_by_label("Mot de passe").fill(account.password)
    page.get_by_label("Code à usage unique").fill(account.code())
    page.get_by_role("button", name="Se connecter").click()
    return context, page


def technician_signed_in(browser: Browser, agent: LiveAgent, viewport: dict[str, int] | None = None) -> tuple[BrowserContext, Page]:
    """A new technician account, logged in on the technician's page (the desk shown)."""
    context, page = at_the_technician_page(browser, agent, agent.add_account(Role.TECHNICIAN), viewport)
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    return context, page
