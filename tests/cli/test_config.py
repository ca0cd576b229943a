"""`telecart config show` and the configuration file as `telecart run` reads it: values shown as
TOML, unknown keys and invalid files refused with a message naming the culprit."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.cli.cli import assert_plain_error, telecart
from tests.live import free_port

CONFIG = """\
[server]
host = "0.0.0.0"
port = 9123
public_url = "https://chariot-12.ehpad.example"

[storage]
data_dir = "/var/lib/telecart-test"
min_free_mib = 128

[security]
idle_lock_minutes = 2.5
max_failed_logins = 3
cookie_secure = true

[logging]
level = "DEBUG"
"""


def run_agent(config: Path, data_dir: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`telecart run` with a configuration that must be refused: it has to exit by itself."""
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config), "--data-dir", str(data_dir),
                             "--port", str(free_port())], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"`telecart run` kept running with an invalid configuration:\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_config_show_prints_the_file_values_as_toml(tmp_path: Path) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = telecart("config", "show", "--config", config)
    assert done.returncode == 0, done.stderr
    shown = tomllib.loads(done.stdout)
    assert shown["server"] == {"host": "0.0.0.0", "port": 9123, "public_url": "https://chariot-12.ehpad.example",
                               "max_body_kib": shown["server"]["max_body_kib"], "allowed_hosts": [],
                               "https_port": 8443, "tls_certificate": "", "tls_key": "", "public_host": "0.0.0.0", "metrics_token": ""}
    assert shown["storage"] == {"data_dir": "/var/lib/telecart-test", "min_free_mib": 128}
    assert shown["security"]["idle_lock_minutes"] == 2.5
    assert shown["security"]["max_failed_logins"] == 3
    assert shown["security"]["cookie_secure"] is True
    assert shown["logging"]["level"] == "DEBUG"
    # Keys absent from the file show their defaults.
    assert shown["server"]["max_body_kib"] == 256
    assert shown["security"]["session_hours"] == 12
    assert shown["devices"]["simulate"] is False


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = telecart("config", "show", "--config", config, "--port", "8443", "--data-dir", tmp_path / "elsewhere", "--simulate")
    assert done.returncode == 0, done.stderr
    shown = tomllib.loads(done.stdout)
    assert shown["server"]["port"] == 8443
    assert shown["server"]["host"] == "0.0.0.0"
    assert shown["storage"]["data_dir"] == str(tmp_path / "elsewhere")
    assert shown["devices"]["simulate"] is True


def test_config_show_doc_is_commented_toml(tmp_path: Path) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = telecart("config", "show", "--doc", "--config", config)
    assert done.returncode == 0, done.stderr
    shown = tomllib.loads(done.stdout)
    assert shown["server"]["port"] == 9123
    # Each key is preceded by its documentation.
    lines = done.stdout.splitlines()
    keys = [i for i, line in enumerate(lines) if line and not line.startswith(("#", "["))]
    assert len(keys) == sum(len(section) for section in shown.values())
    for i in keys:
        assert lines[i - 1].startswith("# ") and len(lines[i - 1]) > 10, lines[i]


def test_default_config_is_valid_toml() -> None:
    done = telecart("config", "show")
    assert done.returncode == 0, done.stderr
    shown = tomllib.loads(done.stdout)
    assert shown["server"]["port"] == 8080 and shown["server"]["host"] == "127.0.0.1"


@pytest.mark.parametrize("text, culprit", [
    ("[server]\nprot = 1\n", "server.prot"),
    ("[security]\nidle_lock_minute = 3\n", "security.idle_lock_minute"),
    ("[serveur]\nport = 1\n", "serveur"),
])
def test_unknown_key_is_refused_by_config_show(tmp_path: Path, text: str, culprit: str) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text(text, encoding="utf-8")
    done = telecart("config", "show", "--config", config)
    assert_plain_error(done)
    assert culprit in done.stderr
    assert "unknown key" in done.stderr
    assert done.stdout == ""


def test_unknown_key_stops_the_agent_at_start(tmp_path: Path) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text("[server]\nprot = 1\n", encoding="utf-8")
    done = run_agent(config, tmp_path / "data")
    assert_plain_error(done)
    assert "server.prot" in done.stderr


@pytest.mark.parametrize("text, culprit", [
    ("[server]\nport = 70000\n", "server.port"),
    ('[logging]\nlevel = "VERBOSE"\n', "logging.level"),
    ("[security]\nidle_lock_minutes = 0\n", "security.idle_lock_minutes"),
    ('[server]\nport = "huit mille"\n', "server.port"),
])
def test_invalid_value_is_named(tmp_path: Path, text: str, culprit: str) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text(text, encoding="utf-8")
    done = telecart("config", "show", "--config", config)
    assert_plain_error(done)
    assert culprit in done.stderr


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text("[server\nport = 8080\n", encoding="utf-8")
    shown = telecart("config", "show", "--config", config)
    assert_plain_error(shown)
    assert "not valid TOML" in shown.stderr and str(config) in shown.stderr
    assert "line 1" in shown.stderr

    run = run_agent(config, tmp_path / "data")
    assert_plain_error(run)
    assert "not valid TOML" in run.stderr


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    done = telecart("config", "show", "--config", absent)
    assert_plain_error(done)
    assert "cannot read configuration file" in done.stderr and str(absent) in done.stderr


@pytest.mark.parametrize("doc", [False, True], ids=["values", "documented"])
def test_config_show_never_prints_a_password_or_a_token(tmp_path: Path, doc: bool) -> None:
    config = tmp_path / "telecart.toml"
    config.write_text('[mail]\npassword = "mot-de-passe-du-relais"\n[sms]\nbearer_token = "jeton-passerelle"\n'
                      '[server]\nmetrics_token = "jeton-supervision"\n', encoding="utf-8")
    done = telecart("config", "show", "--config", config, *(["--doc"] if doc else []))
    assert done.returncode == 0, done.stderr
    for secret in ("mot-de-passe-du-relais", "jeton-passerelle", "jeton-supervision"):
        assert secret not in done.stdout
    shown = tomllib.loads(done.stdout)
    assert shown["mail"]["password"] == shown["sms"]["bearer_token"] == "••••••••"  # set, and said to be


def test_links_follow_the_port_the_agent_answers_on_unless_a_public_url_is_given() -> None:
    """`telecart demo --port 8191` wrote invitation links on port 8080."""
    from agent.config import load_config

    assert load_config(None, {"server": {"port": 8191}}).server.public_url == "http://127.0.0.1:8191"
    given = load_config(None, {"server": {"port": 8191, "public_url": "https://chariot-12.ehpad.example"}})
    assert given.server.public_url == "https://chariot-12.ehpad.example"


def test_the_technicians_settings_lie_over_the_file_under_the_command_line_and_a_broken_file_is_ignored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "telecart.toml"
    config.write_text('[dossiers]\ntimezone = "Europe/Paris"\n[sync]\nfhir_base_url = "https://old.example/fhir"\n')
    (data / "site-settings.toml").write_text('[dossiers]\ntimezone = "America/Cayenne"\n[network]\nhttp_proxy = "http://u:pw@proxy:3128"\n'
                                             '[server]\nport = 1\n')  # not settable from the page: never read
    shown = tomllib.loads(telecart("config", "show", "--config", str(config), "--data-dir", str(data)).stdout)
    assert shown["dossiers"]["timezone"] == "America/Cayenne" and shown["server"]["port"] == 8080
    assert shown["sync"]["fhir_base_url"] == "https://old.example/fhir"
    assert shown["network"]["http_proxy"] == "http://••••••••@proxy:3128"  # the proxy's password is never printed

    (data / "site-settings.toml").write_text('[dossiers]\ntimezone = "Mars/Olympus"\n')  # no longer validates: the file's value stands
    shown = tomllib.loads(telecart("config", "show", "--config", str(config), "--data-dir", str(data)).stdout)
    assert shown["dossiers"]["timezone"] == "Europe/Paris"
    (data / "site-settings.toml").write_text("not [toml")
    assert tomllib.loads(telecart("config", "show", "--config", str(config), "--data-dir", str(data)).stdout)["dossiers"]["timezone"] == "Europe/Paris"
