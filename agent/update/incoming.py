"""An update bundle brought by the technician's page, handed to root.

The agent (its own user, no privilege) cannot install itself. It receives the bundle from the page
into `<data dir>/updates/`, checks it at once so that the technician hears of a wrong file in
seconds rather than from the history later, and drops it into `updates/incoming/`. There, root's
`telecart-update.path` unit sees it and starts `telecart update apply-incoming`, which copies the
file out of the agent's reach before checking it again and installing it (releases.apply): the
agent's check is for the technician's comfort, root's is the one that counts, and a file the agent
could change between root's check and its extraction is never read.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from agent.update.bundle import BundleRefused, Manifest, keyring, verify

INCOMING = Path("updates") / "incoming"


def incoming_dir(data_dir: Path) -> Path:
    return data_dir / INCOMING


async def receive(chunks: AsyncIterator[bytes], data_dir: Path, keys_dir: Path, limit: int, check) -> Manifest:  # noqa: ANN001
    """The bundle written whole from `chunks` (at most `limit` bytes), checked with `check` (a
    coroutine running bundle.verify off the event loop), then put where root takes it. Refused:
    BundleRefused, and nothing is left behind."""
    staging = data_dir / "updates"
    incoming_dir(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    part = staging / f".upload-{secrets.token_hex(6)}.tar"
    try:
        written = 0
        with open(part, "wb") as out:
            async for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise BundleRefused(f"fichier trop gros pour une mise à jour (plus de {limit // (1024 * 1024)} Mo)")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if written == 0:
            raise BundleRefused("fichier vide")
        manifest = await check(verify, part, keyring(keys_dir))
        os.replace(part, incoming_dir(data_dir) / f"telecart-{manifest.version}.tar")
        return manifest
    finally:
        part.unlink(missing_ok=True)


def take(data_dir: Path, into: Path) -> list[Path]:
    """As root: the bundles waiting, oldest first, each moved into `into` (root's own directory)
    before anything reads it; the agent's copies are gone."""
    waiting = sorted(incoming_dir(data_dir).glob("*.tar"), key=lambda p: p.stat().st_mtime)
    into.mkdir(parents=True, exist_ok=True, mode=0o700)
    taken = []
    for bundle in waiting:
        target = into / bundle.name
        try:  # a copy, not a rename: the file stops being the agent's; never through a link the agent made
            source = os.fdopen(os.open(bundle, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:
            bundle.unlink(missing_ok=True)
            continue
        with source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        bundle.unlink()
        taken.append(target)
    return taken
