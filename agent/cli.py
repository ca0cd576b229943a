"""The `telecart` command.

Each command imports what it uses, when it runs: `run` and `demo` the agent (agent/app.py), the
account commands the accounts and the store, `config show` the configuration only. An operator's
`telecart users list` does not load the agent's web server, call stack and sync client first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import ssl
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.access.roles import Role
from agent.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from agent.access import accounts


def _sqlite_utils_without_numpy() -> None:
    """sqlite-utils imports numpy whenever it is installed, only to map numpy's number types to
    column types; nothing here stores a numpy value, and numpy costs 12 MiB and a tenth of a second
    at every start (the call's media stack brings it later, if a call comes). So sqlite-utils is
    imported once with numpy hidden, before any module of the agent imports it."""
    if "sqlite_utils.db" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        del sys.modules["numpy"]


def _trusted_authorities_read_when_needed() -> None:
    """Each TLS client context OpenSSL makes with the system's trust parses the whole bundle of
    authorities (/etc/ssl/certs/ca-certificates.crt, 140-odd certificates, ~25 ms): aiohttp makes
    one as it is imported, and the agent more. The same authorities are in /etc/ssl/certs under
    their hashed names (update-ca-certificates keeps both), where OpenSSL reads only the one a
    server's chain names, when it meets it. So the bundle is left out (SSL_CERT_FILE=/dev/null)
    when it is the system's own and its hashed directory is there; an operator's own bundle stays."""
    paths = ssl.get_default_verify_paths()
    bundle = os.environ.get(paths.openssl_cafile_env, paths.openssl_cafile)
    directory = os.environ.get(paths.openssl_capath_env, paths.openssl_capath)
    if os.path.realpath(bundle) != os.path.realpath(paths.openssl_cafile) or not os.path.isdir(directory):
        return
    if any(re.fullmatch(r"[0-9a-f]{8}\.[0-9]+", name) for name in os.listdir(directory)):
        os.environ[paths.openssl_cafile_env] = os.devnull


def _config_options(parser: argparse.ArgumentParser, server: bool = False) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--data-dir", type=Path, help="data directory (overrides [storage] data_dir)")
    if server:
        parser.add_argument("--host", help="listen address (overrides [server] host)")
        parser.add_argument("--port", type=int, help="listen port (overrides [server] port)")
        parser.add_argument("--https-port", type=int, help="HTTPS port of the join pages, 0 for none (overrides [server] https_port)")
        parser.add_argument("--simulate", action="store_true", help="simulated devices (cameras, card reader, sensors)")


def _load(args: argparse.Namespace) -> Config:
    overrides: dict[str, dict[str, Any]] = {}
    if getattr(args, "data_dir", None):
        overrides.setdefault("storage", {})["data_dir"] = str(args.data_dir)
    if getattr(args, "host", None):
        overrides.setdefault("server", {})["host"] = args.host
    if getattr(args, "port", None):
        overrides.setdefault("server", {})["port"] = args.port
    if getattr(args, "https_port", None) is not None:
        overrides.setdefault("server", {})["https_port"] = args.https_port
    if getattr(args, "simulate", False):
        overrides.setdefault("devices", {})["simulate"] = True
    return load_config(args.config, overrides)


def _open_db(config: Config):  # type: ignore[no-untyped-def]
    from agent.store.database import DATABASE_NAME, connect

    config.storage.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return connect(config.storage.data_dir / DATABASE_NAME)


def cmd_run(args: argparse.Namespace) -> int:
    from agent.app import serve
    from agent.logs import setup as setup_logging

    config = _load(args)
    setup_logging(config.logging.level)
    return asyncio.run(serve(config))


def cmd_demo(args: argparse.Namespace) -> int:
    from agent import demo
    from agent.access import otp
    from agent.links.invitation import settings_from

    args.simulate = True
    config = _load(args)
    db = _open_db(config)
    seeded = demo.seed(db, settings_from(config))
    db.close()
    url = f"http://{config.server.host}:{config.server.port}/"
    print(f"Telecart demo — {'new demo data' if seeded else 'demo data kept'} in {config.storage.data_dir}")
    print(f"Kiosk: {url}\n")
    print(f"{'login':<12} {'password':<18} {'role':<11} {'code now':<9} one-time code secret (RFC 6238)")
    for acc in demo.ACCOUNTS:
        print(f"{acc.login:<12} {acc.password:<18} {acc.role.value:<11} {otp.current_code(acc.otp_secret):<9} {acc.otp_secret}")
    print(f"\nCodes change every 30 s: `telecart users otp LOGIN --data-dir {config.storage.data_dir}` prints the current one.\n",
          flush=True)
    return cmd_run(args)


def cmd_config_show(args: argparse.Namespace) -> int:
    import tomli_w

    from agent.config import annotated_toml, as_toml_dict, masked

    config = masked(_load(args))
    sys.stdout.write(annotated_toml(config) if args.doc else tomli_w.dumps(as_toml_dict(config)))
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("error: give the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n")
    from agent.access import accounts
    from agent.access.passwords import WeakPassword
    from agent.store import transaction

    db = _open_db(_load(args))
    try:
        with transaction(db):
            new = accounts.create_account(db, args.login, Role(args.role), password, args.name)
    except (accounts.AccountError, WeakPassword) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Account '{new.principal.login}' ({new.principal.role.value}) created.")
    _print_enrolment(new)
    return 0


def _print_enrolment(new: accounts.NewAccount) -> None:
    print("Add it to an authenticator app (scan the QR code or enter the URI):")
    print(new.otpauth_uri)
    import segno

    segno.make(new.otpauth_uri, error="m").terminal(compact=True)


def _manage(args: argparse.Namespace, act, done: str) -> int:  # type: ignore[no-untyped-def]
    """One audited act on an account, in one transaction, by the person at the terminal."""
    from agent.access import accounts
    from agent.access.passwords import WeakPassword
    from agent.store import transaction

    db = _open_db(_load(args))
    try:
        with transaction(db):
            result = act(db)
    except (accounts.AccountError, WeakPassword) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(done.format(login=args.login, result=result))
    if isinstance(result, accounts.NewAccount):
        _print_enrolment(result)
    return 0


def _by() -> str:
    return f"cli:{os.environ.get('SUDO_USER') or os.environ.get('USER') or 'root'}"


def cmd_users_disable(args: argparse.Namespace) -> int:
    from agent.access import accounts

    return _manage(args, lambda db: accounts.set_disabled(db, args.login, True, _by()), "Account '{login}' disabled; its sessions ended.")


def cmd_users_enable(args: argparse.Namespace) -> int:
    from agent.access import accounts

    return _manage(args, lambda db: accounts.set_disabled(db, args.login, False, _by()), "Account '{login}' enabled.")


def cmd_users_logout(args: argparse.Namespace) -> int:
    from agent.access import accounts

    return _manage(args, lambda db: accounts.end_sessions(db, args.login, _by()), "{result} session(s) of '{login}' ended.")


def cmd_users_password(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("error: give the new password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n")
    from agent.access import accounts

    return _manage(args, lambda db: accounts.reset_password(db, args.login, password, _by()),
                   "Password of '{login}' changed; its sessions ended.")


def cmd_users_otp_reset(args: argparse.Namespace) -> int:
    from agent.access import accounts

    return _manage(args, lambda db: accounts.reenroll_otp(db, args.login, _by()),
                   "New one-time-code secret for '{login}'; the old authenticator no longer works.")


def cmd_users_card(args: argparse.Namespace) -> int:
    """The CPS card (its RPPS) that logs the account in, or none with --unlink."""
    from agent.access import accounts

    if bool(args.rpps) == args.unlink or (args.rpps and not re.fullmatch(r"[0-9]{11}", args.rpps)):
        print("error: give the card's 11-digit RPPS number, or --unlink", file=sys.stderr)
        return 2
    idnat = f"8{args.rpps}" if args.rpps else None  # idNat_PS = "8" + RPPS
    done = f"CPS card RPPS {args.rpps} now logs '{{login}}' in." if idnat else "CPS card unlinked from '{login}'."
    try:
        return _manage(args, lambda db: accounts.link_card(db, args.login, idnat, _by()), done)
    except accounts.AccountRefused as refused:
        print(f"error: this card is already linked to '{refused.params['other']}'", file=sys.stderr)
        return 1


def cmd_users_list(args: argparse.Namespace) -> int:
    from agent.access import accounts

    db = _open_db(_load(args))
    for principal in accounts.list_accounts(db):
        print(f"{principal.login:<20} {principal.role.value:<11} {principal.display_name}")
    return 0


def cmd_users_otp(args: argparse.Namespace) -> int:
    from agent import demo
    from agent.access import accounts, otp

    db = _open_db(_load(args))
    if not demo.is_seeded(db):
        print("error: current codes are shown only for demo data directories", file=sys.stderr)
        return 1
    row = accounts.find_by_login(db, args.login)
    if row is None:
        print(f"error: no account '{args.login}'", file=sys.stderr)
        return 1
    print(otp.current_code(row["otp_secret"]))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from agent import audit

    db = _open_db(_load(args))
    checked, broken = audit.verify(db)
    if broken is not None:
        print(f"audit trail BROKEN at record {broken.seq}: {broken.reason} ({checked} records verified before it)")
        return 1
    print(f"audit trail OK: {checked} records, chain intact")
    return 0


def cmd_sync_status(args: argparse.Namespace) -> int:
    from agent.technician.sync_report import report

    config = _load(args)
    print("\n".join(report(_open_db(config), config, args.limit)))
    return 0


def cmd_sync_enrol(args: argparse.Namespace) -> int:
    """The cart's SMART key (made once, kept unless --new-key) and what the region registers."""
    from cloud_sync import queue, smart_auth

    config = _load(args)
    db = _open_db(config)
    client_id = config.sync.client_id or queue.cart_id(db)
    try:
        key, made = smart_auth.make_key(config.storage.data_dir, replace=args.new_key)
    except smart_auth.AuthError as error:
        print(f"erreur : {error} (--new-key en fait une autre)", file=sys.stderr)
        return 1
    where = smart_auth.key_path(config.storage.data_dir)
    if args.new_key:
        print(f"Nouvelle clé du chariot ({where}). La région doit enregistrer ce nouveau JWKS : "
              "d'ici là, le chariot n'obtient plus de jeton.", file=sys.stderr)
    else:
        print(f"Clé du chariot {'créée' if made else 'déjà présente, gardée'} ({where}).", file=sys.stderr)
    print(f"À donner à la région : l'identifiant client « {client_id} » et le JWKS public ci-dessous "
          f"(clé {key.kid}) ; la clé privée ne quitte pas le chariot.", file=sys.stderr)
    print(json.dumps(smart_auth.public_jwks(key), indent=2))
    return 0


def cmd_update_apply(args: argparse.Namespace) -> int:
    """As root: the bundle checked, installed on trial, kept if the agent starts, undone if not."""
    from agent.update import bundle, releases

    settings = _load(args).update
    outcome = releases.apply(Path(args.bundle), settings.root, bundle.keyring(settings.keyring), settings.root / ".venv" / "bin" / "python",
                             releases.systemd_start(settings.unit))
    print(outcome.detail)
    return 0 if outcome.installed else 1


def cmd_update_apply_incoming(args: argparse.Namespace) -> int:
    """As root (telecart-update.service, started by its .path unit): each bundle the technician's
    page dropped in the data directory, taken out of the agent's reach, then applied."""
    from agent.update import bundle, incoming, releases

    config = _load(args)
    settings = config.update
    failed = 0
    for taken in incoming.take(config.storage.data_dir, settings.root / "incoming"):
        try:
            outcome = releases.apply(taken, settings.root, bundle.keyring(settings.keyring), settings.root / ".venv" / "bin" / "python",
                                     releases.systemd_start(settings.unit))
        finally:
            taken.unlink(missing_ok=True)
        print(outcome.detail)
        failed += not outcome.installed
    return 1 if failed else 0


def cmd_update_rollback_unconfirmed(args: argparse.Namespace) -> int:
    """At boot, before the agent: an update a power cut left on trial is undone."""
    from agent.update import releases

    settings = _load(args).update
    # --no-start at boot: the service starts next, on whichever version `current` then names
    start = (lambda _release: True) if args.no_start else releases.systemd_start(settings.unit)
    outcome = releases.rollback_unconfirmed(settings.root, start)
    if outcome is not None:
        print(outcome.detail)
    return 0


def cmd_update_status(args: argparse.Namespace) -> int:
    from agent.update import releases

    state = releases.read_state(_load(args).update.root)
    print(f"version en service : {state.get('running') or 'inconnue'}" + (f" ; à l'essai : {state['trial']}" if state.get("trial") else ""))
    for entry in state.get("history", []):
        print(f"  {entry['at']} {entry['version']} : {entry['outcome']}, {entry['detail']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telecart", description="Agent of a Telecart telemedicine cart")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the agent")
    _config_options(run, server=True)
    run.set_defaults(func=cmd_run)

    demo_cmd = sub.add_parser("demo", help="run the agent with simulated devices and demo data")
    _config_options(demo_cmd, server=True)
    demo_cmd.set_defaults(func=cmd_demo)

    config = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    show = config.add_parser("show", help="print the effective configuration")
    show.add_argument("--doc", action="store_true", help="with each key's documentation as a comment")
    _config_options(show, server=True)
    show.set_defaults(func=cmd_config_show)

    users = sub.add_parser("users", help="staff accounts").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="create an account and print its one-time-code URI")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", help="name shown in the kiosk (default: the login)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _config_options(add)
    add.set_defaults(func=cmd_users_add)
    lst = users.add_parser("list", help="list accounts")
    _config_options(lst)
    lst.set_defaults(func=cmd_users_list)
    for name, func, helptext in (("disable", cmd_users_disable, "disable an account and end its sessions"),
                                 ("enable", cmd_users_enable, "enable a disabled account"),
                                 ("logout", cmd_users_logout, "end all of an account's sessions"),
                                 ("password", cmd_users_password, "set a new password (--password-stdin); sessions end"),
                                 ("otp-reset", cmd_users_otp_reset, "new one-time-code secret (a lost phone); sessions end")):
        manage = users.add_parser(name, help=helptext)
        manage.add_argument("login")
        if name == "password":
            manage.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        _config_options(manage)
        manage.set_defaults(func=func)
    card = users.add_parser("card", help="link the CPS card with this RPPS number to an account (or --unlink)")
    card.add_argument("login")
    card.add_argument("rpps", nargs="?", help="the 11-digit RPPS number printed on the card")
    card.add_argument("--unlink", action="store_true", help="the account no longer logs in with a card")
    _config_options(card)
    card.set_defaults(func=cmd_users_card)
    code = users.add_parser("otp", help="print the current one-time code of a demo account")
    code.add_argument("login")
    _config_options(code)
    code.set_defaults(func=cmd_users_otp)

    sync = sub.add_parser("sync", help="the regional server").add_subparsers(dest="action", required=True)
    sync_status = sync.add_parser("status", help="what waits to be sent, what was, the last error")
    _config_options(sync_status)
    sync_status.add_argument("--limit", type=int, default=20, help="list at most this many entries of each kind (default 20)")
    sync_status.set_defaults(func=cmd_sync_status)
    enrol = sync.add_parser("enrol", help="make the cart's SMART key (once) and print what the region registers")
    enrol.add_argument("--new-key", action="store_true", help="replace the key: the region must register the new JWKS")
    _config_options(enrol)
    enrol.set_defaults(func=cmd_sync_enrol)

    update = sub.add_parser("update", help="the agent's versions (as root)").add_subparsers(dest="action", required=True)
    apply_cmd = update.add_parser("apply", help="install a signed bundle on trial; undone by itself if it does not start")
    apply_cmd.add_argument("bundle")
    _config_options(apply_cmd)
    apply_cmd.set_defaults(func=cmd_update_apply)
    from_page = update.add_parser("apply-incoming", help="apply the bundles the technician's page dropped in the data directory")
    _config_options(from_page)
    from_page.set_defaults(func=cmd_update_apply_incoming)
    unconfirmed = update.add_parser("rollback-unconfirmed", help="at boot: undo an update a power cut left on trial")
    unconfirmed.add_argument("--no-start", action="store_true", help="only point back at the previous version (before the service starts)")
    _config_options(unconfirmed)
    unconfirmed.set_defaults(func=cmd_update_rollback_unconfirmed)
    update_status = update.add_parser("status", help="the version in service and the last updates")
    _config_options(update_status)
    update_status.set_defaults(func=cmd_update_status)

    audit_cmd = sub.add_parser("audit", help="audit trail").add_subparsers(dest="action", required=True)
    verify = audit_cmd.add_parser("verify", help="check the hash chain; non-zero exit names the first bad record")
    _config_options(verify)
    verify.set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _sqlite_utils_without_numpy()
    _trusted_authorities_read_when_needed()
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if "agent.store.migrations" in sys.modules:  # only a command that opened the database can meet it
            from agent.store.migrations import SchemaTooNew

            if isinstance(exc, SchemaTooNew):
                print(f"error: {exc}", file=sys.stderr)
                return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
