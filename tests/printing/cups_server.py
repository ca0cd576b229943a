"""A private CUPS for the printing tests: Debian's own cupsd, started on a socket and a loopback
port of its own with every file under the test's directory, with two kinds of printers:

- a PDF printer (cups-pdf): the real pipeline, pdftopdf → pdftops → Ghostscript → a PDF in a
  directory of the test's, read back with pypdf. cups-pdf ignores cupsd's configuration and reads
  /etc/cups/cups-pdf-<key>.conf for the device URI cups-pdf:/<key>: each printer writes its own
  such file (Out = its directory), removed when the server is closed.
- a test printer (tests/printing/testbackend on a raw queue): the document lands as sent, or the
  printer is out of paper, offline, or refuses it, as the test says (`set_mode`).

Measured on this machine (../shared/notes/print-discovery-mail-update-here.md §1): ready in about
0.1 s, stopped in 0.2–2 s; a print to cups-pdf completes in 0.2–0.4 s. cupsd runs as root here
(cups-pdf's backend is root's alone), its jobs under `User lp`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.live import free_port

BACKEND = Path(__file__).resolve().parent / "testbackend"
CUPS_LIB = Path("/usr/lib/cups")
PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CUPS_PDF_CONF = Path("/etc/cups")


def available() -> str | None:
    """Why the printing tests cannot run here, or None."""
    for need in ("/usr/sbin/cupsd", "/usr/sbin/lpadmin", str(CUPS_LIB / "backend" / "cups-pdf"), str(PDF_PPD)):
        if not Path(need).exists():
            return f"{need} missing (apt-get install cups printer-driver-cups-pdf)"
    if os.geteuid() != 0:
        return "cupsd runs cups-pdf's backend as root only"
    return None


@dataclass
class CupsServer:
    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _pdf_confs: list[Path] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.root / "run" / "cups.sock"

    @property
    def address(self) -> str:
        """What `[printing] server` is given: the server's socket."""
        return str(self.socket)

    def _env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": self.address, "LC_ALL": "C"}

    def _configure(self) -> None:
        r = self.root
        for d in ("etc", "spool", "tmp", "cache", "run", "log", "serverbin/backend"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "etc" / "ppd").mkdir(exist_ok=True)
        (r / "tmp").chmod(0o1777)
        for item in CUPS_LIB.iterdir():
            if item.name != "backend" and not (r / "serverbin" / item.name).exists():
                (r / "serverbin" / item.name).symlink_to(item)
        for item in (CUPS_LIB / "backend").iterdir():
            if not (r / "serverbin" / "backend" / item.name).exists():
                (r / "serverbin" / "backend" / item.name).symlink_to(item)
        shutil.copy(BACKEND, r / "serverbin" / "backend" / "testbackend")
        (r / "serverbin" / "backend" / "testbackend").chmod(0o755)
        (r / "etc" / "cups-files.conf").write_text(
            f"ServerRoot {r}/etc\nRequestRoot {r}/spool\nTempDir {r}/tmp\nCacheDir {r}/cache\nStateDir {r}/run\n"
            f"ErrorLog {r}/log/error_log\nAccessLog {r}/log/access_log\nPageLog {r}/log/page_log\nServerBin {r}/serverbin\n"
            f"FileDevice Yes\nPrintcap {r}/run/printcap\nUser lp\nGroup lp\n")
        (r / "etc" / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{self.port}\nListen {self.socket}\nBrowsing No\nBrowseLocalProtocols none\nDefaultAuthType None\n"
            "WebInterface No\nLogLevel debug\nMaxLogSize 0\nJobRetryInterval 5\n"
            "<Location />\n  Order allow,deny\n  Allow 127.0.0.1\n  Allow @LOCAL\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")

    def start(self, timeout: float = 10.0) -> CupsServer:
        if not (self.root / "etc" / "cupsd.conf").exists():
            self._configure()
        log = open(self.root / "log" / "cupsd.out", "ab")
        self.proc = subprocess.Popen(["/usr/sbin/cupsd", "-f", "-c", str(self.root / "etc" / "cupsd.conf"),
                                      "-s", str(self.root / "etc" / "cups-files.conf")], stdout=log, stderr=log, env=self._env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cupsd exited with {self.proc.returncode}: {self.error_log()[-2000:]}")
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(self.socket))
                return self
            time.sleep(0.05)
        raise RuntimeError(f"cupsd not ready after {timeout}s: {self.error_log()[-2000:]}")

    def stop(self) -> None:
        """cupsd stopped (SIGTERM); its queues and their jobs stay on disk for the next start."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        for conf in self._pdf_confs:
            conf.unlink(missing_ok=True)

    def error_log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def run(self, *args: str) -> str:
        done = subprocess.run(list(args), env=self._env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def add_pdf_printer(self, name: str, *, info: str = "", location: str = "") -> Path:
        """A cups-pdf queue; returns the directory its PDFs land in (`<title>-job_<id>.pdf`)."""
        key = f"telecart-test-{uuid.uuid4().hex[:10]}"
        out = self.root / f"pdf-{name}"
        out.mkdir()
        out.chmod(0o1777)  # cups-pdf writes as the job's user
        conf = CUPS_PDF_CONF / f"cups-pdf-{key}.conf"
        conf.write_text(f"Out {out}\nLog {self.root}/log\nAnonDirName {out}\nLabel 0\n")
        self._pdf_confs.append(conf)
        self.run("lpadmin", "-p", name, "-E", "-v", f"cups-pdf:/{key}", "-P", str(PDF_PPD),
                 *(["-D", info] if info else []), *(["-L", location] if location else []))
        return out

    def add_test_printer(self, name: str, mode: str = "ok") -> Path:
        """A raw queue on the test backend; returns the directory its documents land in (`job-<id>.pdf`)."""
        out = self.root / f"out-{name}"
        out.mkdir()
        out.chmod(0o1777)
        self.run("lpadmin", "-p", name, "-E", "-v", f"testbackend:{out}?mode={mode}", "-m", "raw")
        return out

    def set_mode(self, name: str, mode: str) -> None:
        """The test printer's trouble changed (paper put back: "ok"); the queue resumes."""
        out = self.root / f"out-{name}"
        self.run("lpadmin", "-p", name, "-v", f"testbackend:{out}?mode={mode}")
        self.run("cupsenable", name)

    def set_default(self, name: str) -> None:
        self.run("lpadmin", "-d", name)


def printed(directory: Path, job_id: int, timeout: float = 10.0) -> Path:
    """The file a job became in a printer's directory (cups-pdf garbles the title part)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in directory.glob(f"*job{'_' if 'pdf-' in directory.name else '-'}{job_id}.pdf") if p.stat().st_size]
        if found:
            time.sleep(0.05)  # cups-pdf renames nothing: let Ghostscript finish writing
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} printed nothing in {directory}: {sorted(p.name for p in directory.iterdir())}")


@contextlib.contextmanager
def cups_server() -> Iterator[CupsServer]:
    """A started private cupsd, its files in a directory of its own under /tmp that CUPS's filters
    (run as lp) can reach: pytest's own temporary directories are root's alone. Removed after."""
    root = Path(tempfile.mkdtemp(prefix="telecart-cups-"))
    root.chmod(0o755)
    server = CupsServer(root)
    try:
        yield server.start()
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)
