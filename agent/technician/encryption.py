"""Whether the agent's data directory sits on an encrypted block device, for the technician's
diagnostics (docs/image.md: on a cart, /var/lib/telecart is a LUKS2 partition unlocked by the
TPM; anywhere else, a container, a cart set up by hand, the page must say it is in clear).

Read from the kernel alone, no privilege: the mount holding the directory (/proc/self/mountinfo),
then its block device's device-mapper UUID (/sys/dev/block/MAJ:MIN/dm/uuid), which
systemd-cryptsetup and cryptsetup set to "CRYPT-LUKS2-…" for a LUKS2 volume; a device stacked
on another (LVM on LUKS) is followed down through its `slaves`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SCHEMES = {"CRYPT-LUKS2-": "LUKS2", "CRYPT-LUKS1-": "LUKS1", "CRYPT-PLAIN-": "plain", "CRYPT-BITLK-": "BitLocker"}


def _unescape(field: str) -> str:
    """A path as mountinfo writes it (space, tab, newline and backslash as octal escapes)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _mount_of(path: Path, mountinfo: str) -> dict[str, str] | None:
    """The mount `path` lies in: the last-mounted of those with the longest mount point."""
    best: dict[str, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 7:
            continue
        dash = fields.index("-")
        point = _unescape(fields[4])
        inside = path == Path(point) or Path(point) in path.parents
        if inside and (best is None or len(point) >= len(best["mount_point"])):
            best = {"mount_point": point, "device": fields[2], "filesystem": fields[dash + 1],
                    "source": _unescape(fields[dash + 2]) if len(fields) > dash + 2 else ""}
    return best


def _scheme(block: Path, depth: int = 0) -> tuple[str | None, str | None]:
    """The encryption of a block device (/sys/dev/block/MAJ:MIN or a slave), and its mapper name."""
    uuid_file = block / "dm" / "uuid"
    if not uuid_file.is_file() or depth > 8:
        return None, None
    uuid = uuid_file.read_text().strip()
    name_file = block / "dm" / "name"
    name = name_file.read_text().strip() if name_file.is_file() else None
    for prefix, scheme in _SCHEMES.items():
        if uuid.startswith(prefix):
            return scheme, name
    slaves = block / "slaves"
    for slave in sorted(slaves.iterdir()) if slaves.is_dir() else []:
        found, under = _scheme(slave, depth + 1)
        if found:
            return found, under
    return None, name


def data_encryption(data_dir: Path, root: Path = Path("/")) -> dict[str, Any]:
    """Whether `data_dir` is on an encrypted device: {"encrypted", "scheme" ("LUKS2"…, or None),
    "mount_point", "device" ("MAJ:MIN"), "filesystem", "source", "mapper"}; `root` is where /proc
    and /sys are read (a test's fake tree)."""
    try:
        mountinfo = (root / "proc/self/mountinfo").read_text()
    except OSError:
        mountinfo = ""
    mount = _mount_of(Path(data_dir).absolute(), mountinfo)
    if mount is None:
        return {"encrypted": False, "scheme": None, "mount_point": None, "device": None, "filesystem": None,
                "source": None, "mapper": None}
    try:
        scheme, mapper = _scheme(root / "sys/dev/block" / mount["device"])
    except OSError:
        scheme, mapper = None, None
    return {"encrypted": scheme is not None, "scheme": scheme, "mapper": mapper, **mount}
