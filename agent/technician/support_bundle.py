"""The support bundle a technician downloads from their page and hands to the support team: what
is needed to understand a cart's trouble, and nothing of a resident nor a secret.

In the zip: the configuration (secrets masked, as `telecart config show` prints it), the
diagnostics (diagnostics.py), the sync's report (sync_report.py: items by number, dossier by the
first characters of its id, errors as the server said them), whether the audit trail's chain holds
(not the trail itself: it names residents), the versions of what runs, and the agent's log: its
journal when it runs under systemd, else its last lines in memory. The database, the files and
the keys are never read here."""

from __future__ import annotations

import io
import json
import platform
import sys
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from sqlite_utils import Database

from agent import __version__, audit
from agent.config import Config, annotated_toml, masked
from agent.logs import RECENT, under_journal
from agent.technician.sync_report import report

PACKAGES = ("aiohttp", "aiortc", "av", "bleak", "pyscard", "pyserial", "zeroconf", "fhir.resources", "sqlite-utils", "cryptography")
JOURNAL_LINES = 5000
README = """Dossier de support Telecart
==========================

configuration.toml  la configuration du chariot, secrets masqués
diagnostic.json     processeur, mémoire, disque, températures, batterie, adresses réseau
sync.txt            l'envoi au serveur régional : attente, erreurs, éléments à voir
audit.txt           l'intégrité de la piste d'audit (la piste elle-même n'est pas jointe)
versions.txt        les versions du système et des composants
journal.txt         le journal de l'agent

Ce dossier ne contient ni donnée de santé, ni mot de passe, ni clé.
"""


def _audit_words(db: Database) -> str:
    count, broken = audit.verify(db)
    if broken is None:
        return f"piste d'audit intègre : {count} enregistrement(s), chaîne de hachage vérifiée\n"
    return f"piste d'audit ROMPUE à l'enregistrement n° {broken.seq} : {broken.reason}\n"


def _versions() -> str:
    lines = [f"telecart {__version__}", f"python {sys.version.split()[0]}", f"système {platform.platform()}"]
    for name in PACKAGES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} absent")
    return "\n".join(lines) + "\n"


def _journal() -> str:
    """The agent's own journal entries when it runs under systemd (its unit only), else its last
    lines in memory."""
    if under_journal():
        try:
            from systemd import journal

            reader = journal.Reader()
            reader.this_boot()
            reader.add_match(SYSLOG_IDENTIFIER="telecart")
            reader.seek_tail()
            entries = []
            for _ in range(JOURNAL_LINES):
                entry = reader.get_previous()
                if not entry:
                    break
                entries.append(f"{entry['__REALTIME_TIMESTAMP'].isoformat()} {entry.get('PRIORITY', '')} {entry.get('MESSAGE', '')}")
            return "\n".join(reversed(entries)) + "\n"
        except (ImportError, OSError) as error:
            return f"journal systemd illisible ({error}) ; dernières lignes en mémoire :\n" + "\n".join(RECENT.lines) + "\n"
    return "\n".join(RECENT.lines) + "\n"


def bundle(db: Database, config: Config, diagnostics: dict[str, Any]) -> bytes:
    """The zip's bytes (a few hundred kB at most: small enough to build in memory)."""
    out = io.BytesIO()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lisez-moi.txt", README + f"\nfait le {stamp} (UTC)\n")
        archive.writestr("configuration.toml", annotated_toml(masked(config)))
        archive.writestr("diagnostic.json", json.dumps(diagnostics, indent=2, ensure_ascii=False))
        archive.writestr("sync.txt", "\n".join(report(db, config, limit=500)) + "\n")
        archive.writestr("audit.txt", _audit_words(db))
        archive.writestr("versions.txt", _versions())
        archive.writestr("journal.txt", _journal())
    return out.getvalue()
