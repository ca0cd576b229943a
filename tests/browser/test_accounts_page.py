"""The admin's accounts page in Chromium (hardening issue, item 8), as an establishment's admin
uses it when a nurse loses her phone, forgets her password or leaves: each act is checked where
the nurse feels it (her session, her next login) and in the audit trail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.api.helpers import API, audit_items, logged_in
from tests.browser.kiosk import agent_in, shot, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    """The demo agent, taking one-time codes two 30-s steps either side of now (the most
    [security] otp_valid_window allows): the nurse logs in three times with her renewed secret, a
    code works once, and each login has a step of its own without waiting for the next one."""
    with agent_in(tmp_path_factory.mktemp("demo"), demo=True, config_toml="[security]\notp_valid_window = 2\n") as agent:
        yield agent


def can_log_in(agent: LiveAgent, login: str, password: str, code: str) -> int:
    return requests.post(f"{agent.url}{API}/session", json={"login": login, "password": password, "otp": code}, timeout=10).status_code


def test_the_admin_ends_sessions_renews_the_code_and_password_and_disables_an_account(
        page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    admin = demo_agent.add_account(Role.ADMIN)
    nurse = demo_agent.add_account(Role.NURSE)
    at_the_cart = logged_in(demo_agent, nurse)  # the nurse is logged in somewhere
    sign_in(page, demo_agent, admin)
    page.get_by_role("button", name="Comptes").tap()
    row = page.locator(f"tr[data-account='{nurse.login}']")
    expect(row).to_contain_text("Infirmier·ère")
    expect(row).to_contain_text("1 session ouverte")
    expect(page.locator(f"tr[data-account='{admin.login}']").get_by_role("button", name="Désactiver")).to_have_count(0)
    shot(page, artifacts, "comptes.png")

    # A badge forgotten on a workstation: her sessions end.
    row.get_by_role("button", name="Déconnecter partout").tap()
    expect(row).not_to_contain_text("session ouverte")
    assert at_the_cart.get(f"{demo_agent.url}{API}/session").status_code == 401

    # A lost phone: a new secret, shown once as a QR code; the old authenticator no longer works.
    row.get_by_role("button", name="Nouveau code (téléphone perdu)").tap()
    row.get_by_role("button", name="Confirmer : l'ancien code ne marchera plus").tap()
    panel = page.locator(".account-panel")
    expect(panel.locator("img.otp-qr")).to_be_visible()
    secret = panel.locator(".otp-secret").inner_text().replace(" ", "")
    shot(page, artifacts, "comptes-nouveau-code.png")
    old, renewed = pyotp.TOTP(nurse.secret), pyotp.TOTP(secret)
    step = int(time.time() // 30)  # codes of `step` to `step + 2` are taken for the next minute
    assert can_log_in(demo_agent, nurse.login, nurse.password, old.generate_otp(step + 1)) == 401  # not a replay: never used
    assert can_log_in(demo_agent, nurse.login, nurse.password, renewed.generate_otp(step)) == 201
    panel.get_by_role("button", name="C'est scanné, masquer le code").tap()
    expect(panel).to_be_hidden()

    # A forgotten password: too short is said, then the new one works.
    row.get_by_role("button", name="Nouveau mot de passe").tap()
    page.locator("#account-password").fill("court")
    page.get_by_role("button", name="Enregistrer").tap()
    expect(page.locator(".account-panel .alert")).to_contain_text("10 caractères au moins")
    page.locator("#account-password").fill("un-mot-de-passe-neuf")
    page.get_by_role("button", name="Enregistrer").tap()
    expect(page.locator("#toasts")).to_contain_text("Mot de passe de")
    assert can_log_in(demo_agent, nurse.login, "un-mot-de-passe-neuf", renewed.generate_otp(step + 1)) == 201

    # She leaves: disabled (two taps), she logs in nowhere; given back, she does again.
    row.get_by_role("button", name="Désactiver").tap()
    row.get_by_role("button", name="Confirmer la désactivation").tap()
    expect(row).to_contain_text("Désactivé")
    assert can_log_in(demo_agent, nurse.login, "un-mot-de-passe-neuf", renewed.generate_otp(step + 2)) == 401  # never used
    row.get_by_role("button", name="Réactiver").tap()
    expect(row).to_contain_text("Actif")
    assert can_log_in(demo_agent, nurse.login, "un-mot-de-passe-neuf", renewed.generate_otp(step + 2)) == 201  # the refusal did not use it

    trail = audit_items(demo_agent, logged_in(demo_agent, demo_agent.add_account(Role.ADMIN)))
    acts = {r["action"] for r in trail if r["actor"] == admin.login and nurse.login in (r["detail"] or "")}
    assert {"account.logout_all", "account.otp_reenroll", "account.password_reset", "account.disable", "account.enable"} <= acts


def test_an_admin_cannot_disable_themself_and_a_nurse_cannot_manage_accounts(demo_agent: LiveAgent) -> None:
    admin = demo_agent.add_account(Role.ADMIN)
    client = logged_in(demo_agent, admin)
    refused = client.patch(f"{demo_agent.url}{API}/accounts/{admin.login}", json={"disabled": True})
    assert refused.status_code == 409 and refused.json()["error"] == "account_self"
    listed = client.get(f"{demo_agent.url}{API}/accounts").json()["items"]
    assert all(set(item) == {"login", "display_name", "role", "role_label", "disabled", "sessions", "created_at", "rpps", "email", "mobile",
                             "second_factors"} for item in listed)  # never a password hash nor a one-time-code secret
    assert client.put(f"{demo_agent.url}{API}/accounts/personne/password", json={"password": "0123456789ab"}).status_code == 404
    nurse = logged_in(demo_agent, demo_agent.add_account(Role.NURSE))
    assert nurse.get(f"{demo_agent.url}{API}/accounts").status_code == 403
    assert nurse.post(f"{demo_agent.url}{API}/accounts/{admin.login}/otp").status_code == 403
