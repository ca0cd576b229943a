"""An administrator manages accounts from the cart's terminal while the agent runs: disable and
enable, a new password, a new one-time-code secret for a lost phone, everyone logged out. Each
act ends the person's sessions at once where it should, and is in the audit trail."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import requests

from agent.access.roles import Role
from tests.api.helpers import API, anonymous, assert_error, audit_items, logged_in, post_login
from tests.cli.cli import assert_plain_error, telecart
from tests.cli.test_users import otpauth_uri
from tests.live import LiveAgent, running_agent


def logged_in_with(agent: LiveAgent, login: str, password: str, otp: str) -> requests.Session:
    """A client logged in with this very code (tests.live's Account.code() picks its own)."""
    client = anonymous()
    reply = post_login(agent, login, password, otp, client=client)
    assert reply.status_code == 201, reply.text
    return client


def test_disable_enable_password_otp_and_logout_act_at_once_and_are_audited(tmp_path: Path) -> None:
    # The nurse logs in three times with one secret, and a code works once: this agent takes codes
    # two 30-s steps either side of now (the most [security] otp_valid_window allows), so each login
    # has a step of its own, `step` to `step + 2`, all valid for the next minute, without waiting.
    with running_agent(tmp_path, security={"otp_valid_window": 2}) as agent:
        data = ["--data-dir", str(agent.data_dir)]
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        nurse_account = agent.add_account(Role.NURSE)
        old_totp = pyotp.TOTP(nurse_account.secret)
        step = int(time.time() // 30)
        nurse = logged_in_with(agent, nurse_account.login, nurse_account.password, old_totp.generate_otp(step))
        assert nurse.get(f"{agent.url}{API}/session").status_code == 200

        assert telecart("users", "disable", nurse_account.login, *data).returncode == 0
        assert_error(nurse.get(f"{agent.url}{API}/session"), 401, "session_expired")  # out at once
        # a code never used (not a replay): refused because the account is disabled
        assert_error(post_login(agent, nurse_account.login, nurse_account.password, old_totp.generate_otp(step + 1)), 401, "bad_credentials")
        assert telecart("users", "enable", nurse_account.login, *data).returncode == 0
        nurse = logged_in_with(agent, nurse_account.login, nurse_account.password, old_totp.generate_otp(step + 1))  # the refusal did not use it

        changed = telecart("users", "password", nurse_account.login, "--password-stdin", *data, stdin="un nouveau mot de passe\n")
        assert changed.returncode == 0, changed.stderr
        assert_error(nurse.get(f"{agent.url}{API}/session"), 401, "session_expired")
        assert post_login(agent, nurse_account.login, "un nouveau mot de passe", old_totp.generate_otp(step + 2)).status_code == 201

        reset = telecart("users", "otp-reset", nurse_account.login, *data)
        assert reset.returncode == 0, reset.stderr
        fresh = pyotp.parse_uri(otpauth_uri(reset.stdout))
        assert fresh.secret != nurse_account.secret
        # the old phone's code of now, a bad code for the new secret (a replay would be 'replayed_code')
        assert_error(post_login(agent, nurse_account.login, "un nouveau mot de passe", old_totp.now()), 401, "bad_credentials")
        assert post_login(agent, nurse_account.login, "un nouveau mot de passe", fresh.now()).status_code == 201

        ended = telecart("users", "logout", nurse_account.login, *data)
        assert ended.returncode == 0 and "1 session(s)" in ended.stdout, ended.stdout

        assert_plain_error(telecart("users", "disable", "personne", *data))
        acts = [r["action"] for r in audit_items(agent, admin) if r["action"].startswith("account.") and nurse_account.login in (r["detail"] or "")]
        assert {"account.disable", "account.enable", "account.password_reset", "account.otp_reenroll", "account.logout_all"} <= set(acts)


def test_a_cps_card_is_linked_once_and_unlinked_from_the_terminal(tmp_path: Path) -> None:
    with running_agent(tmp_path) as agent:
        data = ["--data-dir", str(agent.data_dir)]
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        first, second = agent.add_account(Role.NURSE), agent.add_account(Role.DOCTOR)
        linked = telecart("users", "card", first.login, "99700123456", *data)
        assert linked.returncode == 0 and "99700123456" in linked.stdout, linked.stderr
        rows = {a["login"]: a for a in admin.get(f"{agent.url}{API}/accounts").json()["items"]}
        assert rows[first.login]["rpps"] == "99700123456"
        twice = telecart("users", "card", second.login, "99700123456", *data)
        assert twice.returncode == 1 and first.login in twice.stderr  # one card, one account
        assert_plain_error(twice)
        assert telecart("users", "card", second.login, "123", *data).returncode == 2
        assert telecart("users", "card", first.login, "--unlink", *data).returncode == 0
        assert all(a["rpps"] is None for a in admin.get(f"{agent.url}{API}/accounts").json()["items"])
        acts = [r["detail"] for r in audit_items(agent, admin) if r["action"] == "account.card"]
        assert acts[:2] == [f"{first.login} : plus de carte CPS", f"{first.login} : carte CPS 899700123456"]
