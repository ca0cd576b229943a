"""Release wheels written by hand for the update tests (no build tools on a fresh machine)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def release_wheel(out: Path, version: str, entry: str, module: str = "") -> Path:
    """A release wheel written by hand (no build tools on a fresh machine): the `telecart`
    command at `entry`, and `module`'s code when given. The real agent code comes from the base
    environment, which every release sees (releases.py)."""
    name = f"telecart-{version}-py3-none-any.whl"
    info = f"telecart-{version}.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: telecart\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/entry_points.txt": f"[console_scripts]\ntelecart = {entry}\n"}
    if module:
        files["telecart_release/__init__.py"] = module
    records = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},{len(text.encode())}"
               for path, text in files.items()]
    files[f"{info}/RECORD"] = "\n".join([*records, f"{info}/RECORD,,"]) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out / name, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return out / name
