"""What the agent loads to start (issue 16, "The agent's weight"): not the call's media stack,
nor what only syncing, a PDF, the technician's page or the announcer use.

aiortc, PyAV and numpy are most of the agent's memory and a good part of its start-up; they come
with the first call or camera preview (agent/call/calls.py `load_media`, agent/devices/cameras.py),
never with the start or the kiosk's ordinary reads. Checked on the real command, `telecart run
--simulate`, by the shared libraries its process has mapped (/proc/PID/maps): a pure-Python import
check in this test process would see the test's own imports. The same check holds Pillow (which
reportlab imports), psutil and zeroconf, whose compiled parts show in the maps.

fhir.resources and reportlab are pure Python, invisible in the maps: a fresh interpreter imports
agent/app.py, starts the agent as `telecart run` does and makes the kiosk's ordinary reads, then
must hold none of them in sys.modules (nor psutil, zeroconf, Pillow, nor bleak, which comes with
the first Bluetooth link or scan; nor cryptography's x509, joserfc and aiosmtplib, which come with
the first CPS card, PSC login, sync key, certificate made or mail), nor have built the OpenAPI
document; then each comes with its first use. And the `telecart` commands that do not run the
agent do not import it (agent/cli.py), checked in fresh interpreters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.live import LiveAgent, free_port

# A package's compiled modules, as /proc/PID/maps names them: av (PyAV and its FFmpeg), numpy,
# pylibsrtp (aiortc's SRTP, loaded with aiortc itself).
MEDIA = ("av", "av.libs", "numpy", "numpy.libs", "pylibsrtp")
# Pillow (PIL's _imaging, loaded with reportlab), psutil (_psutil_linux), zeroconf (its Cython modules).
LATER = ("PIL", "pillow.libs", "psutil", "zeroconf")


def mapped_packages(pid: int) -> set[str]:
    """The site-packages directories whose shared libraries the process has mapped."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[-1]
        if "/site-packages/" in path and (path.endswith(".so") or ".so." in path):
            found.add(path.split("/site-packages/", 1)[1].split("/", 1)[0])
    return found


def test_the_agent_starts_and_serves_the_kiosk_without_the_media_stack_which_the_preview_loads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    agent = LiveAgent(data_dir, free_port()).start()
    try:
        assert agent.proc is not None
        nurse = agent.login(agent.add_account())
        for path in ("/api/v1/session", "/api/v1/patients?limit=20", "/api/v1/dossiers", "/api/v1/cameras", "/"):
            assert nurse.get(agent.url + path, timeout=10).status_code == 200, path
        assert not mapped_packages(agent.proc.pid) & set(MEDIA), "loaded before any call or preview"
        assert not mapped_packages(agent.proc.pid) & set(LATER), "loaded before any PDF, technician's page or announcement"

        # The first preview loads what it needs (PyAV's frames, the simulated camera's numpy).
        with nurse.get(agent.url + "/api/v1/cameras/preview", stream=True, timeout=20) as reply:
            assert reply.status_code == 200
            first = next(reply.iter_content(chunk_size=4096))
            assert b"Content-Type: image/jpeg" in first
        assert {"av", "numpy"} <= mapped_packages(agent.proc.pid)
    finally:
        agent.stop()


# Run in a fresh interpreter: the agent started as `telecart run --simulate` starts it (agent/cli.py's
# cmd_run, in process), the kiosk's ordinary reads made from a thread, then what is loaded; then the
# first use of each thing loaded later.
START_IMPORTS = """
import asyncio, json, sys
from pathlib import Path

data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
WATCHED = ("fhir.resources", "fhir_core", "reportlab", "PIL", "psutil", "zeroconf", "bleak", "dbus_fast", "av", "numpy", "aiortc",
           "segno", "phonenumbers", "email_validator", "cryptography.x509", "joserfc", "aiosmtplib")

def loaded():
    return sorted(m for m in WATCHED if m in sys.modules)

from agent.cli import _sqlite_utils_without_numpy
_sqlite_utils_without_numpy()
from tests.live import LiveAgent  # the test's own helpers: accounts and logins
helpers = loaded()

from agent.app import Agent
from agent.config import load_config

async def main():
    config = load_config(None, {"storage": {"data_dir": str(data_dir)}, "server": {"port": port, "https_port": 0},
                                "devices": {"simulate": True}})
    agent = Agent(config)
    await agent.start()
    try:
        live = LiveAgent(data_dir, port)

        def reads():
            nurse = live.login(live.add_account())
            for path in ("/api/v1/session", "/api/v1/patients?limit=20", "/api/v1/dossiers", "/api/v1/cameras", "/", "/api/v1/sync"):
                assert nurse.get(live.url + path, timeout=10).status_code == 200, path
            return nurse

        nurse = await asyncio.get_running_loop().run_in_executor(None, reads)
        await asyncio.sleep(0.5)  # the sync worker's first round, the housekeeping's
        at_start = {"modules": loaded(), "openapi_built": agent.services.openapi_document.cache_info().currsize}

        doc = await asyncio.get_running_loop().run_in_executor(None, lambda: nurse.get(live.url + "/api/v1/openapi.json", timeout=10))
        assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")

        from agent.report.pdf import render
        from tests.test_report_pdf import TYPICAL
        assert render(TYPICAL).startswith(b"%PDF")
        from agent.technician import diagnostics
        assert diagnostics.snapshot(data_dir, 0.0)["cpu"]["cores"] >= 1
        from cloud_sync.worker import load_fhir
        await load_fhir()
        from agent.technician import discovery
        from agent import first_use
        await first_use.load(*discovery.ZEROCONF_SIDE)
        from drivers.sensors.ble_link import load_bleak
        await load_bleak()
        from agent.identity import contacts
        assert contacts.mobile("06 12 34 56 78") == "+33612345678" and contacts.email("A@Example.org") == "A@example.org"
        from agent.access import otp
        assert otp.enrolment_qr("otpauth://totp/Telecart:x?secret=ABC").startswith("data:image/svg+xml")
        from agent.notify import DeliveryError
        from agent.notify.mail import send_mail
        from agent.config import MailConfig
        try:  # nobody listens there: refused at once
            await send_mail(MailConfig(smtp_host="127.0.0.1", smtp_port=9, security="none"), "a@example.org", "s", "t")
        except DeliveryError:
            pass
        from cloud_sync import smart_auth
        assert smart_auth.public_jwks(smart_auth.make_key(data_dir)[0])["keys"]
        from agent import tls
        cert, _ = tls.certificate_files(config.server.model_copy(update={"tls_certificate": ""}), data_dir)
        assert tls.fingerprint(cert).count(":") == 31
        after = {"modules": loaded(), "openapi_built": agent.services.openapi_document.cache_info().currsize}
    finally:
        await agent.stop()
    print(json.dumps({"helpers": helpers, "at_start": at_start, "after_first_use": after}))

asyncio.run(main())
"""


def test_the_start_and_the_kiosks_reads_import_none_of_what_serves_later(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    done = subprocess.run([sys.executable, "-c", START_IMPORTS, str(data_dir), str(free_port())], capture_output=True, text=True,
                          timeout=120, check=False, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["helpers"] == [], "the test's own helpers import what it watches"
    assert outcome["at_start"] == {"modules": [], "openapi_built": 0}, outcome
    assert outcome["after_first_use"] == {"modules": ["PIL", "aiosmtplib", "bleak", "cryptography.x509", "dbus_fast", "email_validator",
                                                      "fhir.resources", "fhir_core", "joserfc", "phonenumbers", "psutil", "reportlab",
                                                      "segno", "zeroconf"], "openapi_built": 1}, outcome


CLI_IMPORTS = """
import json, sys
from agent.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "loaded": sorted(m for m in ("agent.app", "aiohttp.web", "aiortc", "av", "numpy") if m in sys.modules)}))
"""


def test_the_commands_that_do_not_run_the_agent_do_not_import_it(tmp_path: Path) -> None:
    for command in (["config", "show"], ["users", "list"], ["audit", "verify"]):
        done = subprocess.run([sys.executable, "-c", CLI_IMPORTS, *command, "--data-dir", str(tmp_path / "data")],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        assert outcome == {"status": 0, "loaded": []}, (command, outcome)
