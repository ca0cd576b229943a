"""The agent's versioned environments, and the update that undoes itself.

    <root>/releases/<version>/   a virtual environment per version (bin/telecart)
    <root>/current  -> releases/<version>   what the service runs (ExecStart=<root>/current/bin/telecart)
    <root>/previous -> releases/<version>   where a failed update goes back to
    <root>/update-state.json     the running version, an update on trial, the history (read by the technician's page)

`apply` checks the bundle (bundle.py) before writing anything, builds the new version's
environment beside the others (its own wheels over the base environment's dependencies, which a
`.pth` file shares, so a version costs megabytes, not the 400 MB of Chromium-era wheels), points
`current` at it (one atomic rename), and starts it. A version that does not reach READY=1 (the
service's Type=notify) within the start's timeout is undone at once: `current` back to the
previous version, started again, and the history says so in French. A power cut during the trial
leaves the trial recorded: `rollback_unconfirmed`, run before the agent at boot (or by the
service's OnFailure=), finishes the undoing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.update.bundle import BundleRefused, Manifest, extract, verify

STATE = "update-state.json"
Start = Callable[[Path], bool]  # starts the service on this release; True once it said READY=1


@dataclass(frozen=True)
class Outcome:
    installed: bool  # the new version runs
    version: str
    detail: str  # in French, for the technician's page


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_state(root: Path) -> dict[str, Any]:
    try:
        return json.loads((root / STATE).read_text())
    except (OSError, ValueError):
        return {"running": None, "trial": None, "history": []}


def _write_state(root: Path, state: dict[str, Any]) -> None:
    temporary = root / f".{STATE}.tmp"
    temporary.write_text(json.dumps(state, indent=2, ensure_ascii=False))
    with open(temporary, "rb+") as file:
        os.fsync(file.fileno())
    temporary.replace(root / STATE)


def _record(root: Path, version: str, outcome: str, detail: str, running: str | None, trial: str | None = None) -> None:
    state = read_state(root)
    state["history"] = ([{"at": _now(), "version": version, "outcome": outcome, "detail": detail}] + state.get("history", []))[:20]
    state["running"], state["trial"] = running, trial
    _write_state(root, state)


def current_release(root: Path) -> Path | None:
    link = root / "current"
    return link.resolve() if link.is_symlink() else None


def _point(root: Path, name: str, release: Path) -> None:
    """`<root>/<name>` -> release, replaced in one rename (never missing, even after a power cut)."""
    temporary = root / f".{name}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(release.relative_to(root))
    temporary.replace(root / name)


def build_release(root: Path, bundle: Path, manifest: Manifest, base_python: Path) -> Path:
    """The version's environment, beside the others: a venv that sees the base environment's
    packages (a .pth) and holds the bundle's wheels itself, which take precedence."""
    release = root / "releases" / manifest.version
    building = root / "releases" / f".{manifest.version}.building"
    shutil.rmtree(building, ignore_errors=True)
    wheels = extract(bundle, manifest, building / ".wheels")
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(building)], check=True, capture_output=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base_site = subprocess.run([str(base_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([str(base_python), "-m", "pip", "--python", str(building / "bin" / "python"), "install", "--quiet", "--no-index",
                    "--no-deps", "--no-cache-dir", *map(str, wheels)], check=True, capture_output=True)
    # Only now the base's packages: pip would have found the same version there and installed
    # nothing. addsitedir, not a bare path: the base's own .pth files (an editable install) apply too.
    (building / "lib" / version / "site-packages" / "telecart-base.pth").write_text(f"import site; site.addsitedir({base_site!r})\n")
    shutil.rmtree(building / ".wheels")
    # venv scripts name the directory they were made in: made under its final name instead
    shutil.rmtree(release, ignore_errors=True)
    building.rename(release)
    for script in (release / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if text.startswith(b"#!") and str(building).encode() in text:
                script.write_bytes(text.replace(str(building).encode(), str(release).encode()))
    (release / "pyvenv.cfg").write_text((release / "pyvenv.cfg").read_text().replace(str(building), str(release)))
    return release


def apply(bundle: Path, root: Path, keys: list[Ed25519PublicKey], base_python: Path, start: Start) -> Outcome:
    """Install `bundle` on trial and keep it only if it starts; else go back. Never raises for a
    bad bundle or a version that does not start: the Outcome says it."""
    try:
        manifest = verify(bundle, keys)  # before anything is touched
    except BundleRefused as refused:
        _record(root, "?", "refusée", str(refused), read_state(root).get("running"))
        return Outcome(False, "?", str(refused))
    previous = current_release(root)
    if previous is not None and previous.name == manifest.version:
        detail = f"la version {manifest.version} est déjà celle du chariot"
        _record(root, manifest.version, "refusée", detail, previous.name)
        return Outcome(False, manifest.version, detail)
    try:
        release = build_release(root, bundle, manifest, base_python)
    except (subprocess.CalledProcessError, OSError) as error:
        detail = f"l'installation de la version {manifest.version} a échoué ({error.__class__.__name__}) ; rien n'a changé"
        _record(root, manifest.version, "échouée", detail, previous.name if previous else None)
        return Outcome(False, manifest.version, detail)
    _record(root, manifest.version, "à l'essai", "installée, démarrage en cours", previous.name if previous else None, trial=manifest.version)
    _point(root, "current", release)
    if start(release):
        if previous is not None and previous != release:
            _point(root, "previous", previous)
        _record(root, manifest.version, "installée", f"version {manifest.version} démarrée", manifest.version)
        return Outcome(True, manifest.version, f"version {manifest.version} installée")
    return _roll_back(root, manifest.version, previous, start)


def _roll_back(root: Path, version: str, previous: Path | None, start: Start) -> Outcome:
    if previous is None:
        detail = f"la version {version} ne démarrait pas, et il n'y a pas de version précédente où revenir"
        _record(root, version, "annulée", detail, None)
        return Outcome(False, version, detail)
    _point(root, "current", previous)
    back = start(previous)
    detail = (f"la version {version} ne démarrait pas : retour automatique à la version {previous.name}"
              + ("" if back else ", qui ne démarre pas non plus : intervention nécessaire"))
    _record(root, version, "annulée", detail, previous.name if back else None)
    return Outcome(False, version, detail)


def rollback_unconfirmed(root: Path, start: Start) -> Outcome | None:
    """At boot: an update left on trial (a power cut during its start) is undone."""
    state = read_state(root)
    trial = state.get("trial")
    if not trial:
        return None
    previous = root / "releases" / state["running"] if state.get("running") else None
    return _roll_back(root, trial, previous if previous and previous.is_dir() else None, start)


def systemd_start(unit: str = "telecart.service", timeout: float = 180.0) -> Start:
    """Restart the service on the release `current` now names: systemctl returns once a
    Type=notify service said READY=1, and fails when it exited or timed out first."""
    def start(_release: Path) -> bool:
        try:
            return subprocess.run(["systemctl", "restart", unit], capture_output=True, timeout=timeout).returncode == 0
        except subprocess.TimeoutExpired:
            return False
    return start
