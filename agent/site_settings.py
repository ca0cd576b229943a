"""What the technician set on the technician's page, kept beside the database.

The configuration file (/etc/telecart/telecart.toml on the cart) belongs to root and to the
image: the agent, which runs as its own user, cannot and must not rewrite it. The few settings a
technician gives in the field (the time zone of the cart's dates, the regional server's address,
the printer)
are kept instead in `site-settings.toml` in the data directory, written by the agent, and laid
over the file at start: the file < these settings < the command line. Only the keys of
`SETTABLE` are ever read from it, so a hand-edited or stale file can set nothing else.

A file that no longer reads or no longer validates is ignored with a warning rather than keeping
the agent from starting: the cart must always come up, with the image's settings at worst.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

log = logging.getLogger(__name__)

FILE_NAME = "site-settings.toml"

# (section, key): what the technician's page may set.
SETTABLE = frozenset({
    ("dossiers", "timezone"),
    ("sync", "fhir_base_url"),
    ("sync", "upload_url"),
    ("network", "http_proxy"),
    ("printing", "printer"),
})


def read(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The settable keys the file holds, by section; {} without a (readable) file."""
    path = data_dir / FILE_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("site settings ignored: %s does not read (%s)", path, exc)
        return {}
    kept: dict[str, dict[str, Any]] = {}
    for section, values in raw.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if (section, key) in SETTABLE:
                kept.setdefault(section, {})[key] = value
    return kept


def write(data_dir: Path, section: str, key: str, value: Any) -> None:
    """One setting saved (written whole, then renamed: a power cut leaves the old file or the new)."""
    if (section, key) not in SETTABLE:
        raise KeyError(f"{section}.{key} is not set from the technician's page")
    settings = read(data_dir)
    settings.setdefault(section, {})[key] = value
    path = data_dir / FILE_NAME
    tmp = path.with_name(f".{FILE_NAME}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(b"# Written by the technician's page (agent/site_settings.py); laid over the configuration file.\n")
        out.write(tomli_w.dumps(settings).encode("utf-8"))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
