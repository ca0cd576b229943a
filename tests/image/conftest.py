"""The appliance image's tests (docs/image.md).

The fast ones (the units, users, presets, udev rules, the mkosi definition) run in the default
suite. Those marked `image` need a built image tree and are skipped unless one is given:
TELECART_IMAGE_TREE=DIR (a tree scripts/build-image made), or TELECART_BUILD_IMAGE=1 (the test
runs scripts/build-image itself, a few minutes, into build/image-test).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "image"
EXTRA = IMAGE / "mkosi.extra"
UNITS = EXTRA / "usr/lib/systemd/system"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "image: boots or reads a built image tree; skipped unless TELECART_IMAGE_TREE or TELECART_BUILD_IMAGE=1",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TELECART_IMAGE_TREE") or os.environ.get("TELECART_BUILD_IMAGE") == "1":
        return
    skip = pytest.mark.skip(reason="needs a built image: TELECART_IMAGE_TREE=DIR or TELECART_BUILD_IMAGE=1 (docs/image.md)")
    for item in items:
        if item.get_closest_marker("image") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def image_tree() -> Iterator[Path]:
    """The built tree: the one named by TELECART_IMAGE_TREE, else one scripts/build-image makes
    (once, whichever pytest-xdist worker gets here first; the other waits on the lock)."""
    given = os.environ.get("TELECART_IMAGE_TREE")
    if given:
        tree = Path(given).resolve()
        assert (tree / "opt/telecart/.venv/bin/telecart").exists(), f"{tree} is not a tree scripts/build-image built"
        yield tree
        return
    if os.geteuid() != 0 or shutil.which("mkosi") is None:
        pytest.skip("building the image needs root and mkosi (apt-get install mkosi debootstrap systemd-container)")
    tree = ROOT / "build" / "image-test"
    lock_path = ROOT / "build" / "image-test.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = tree.with_name("image-test.done")
        if not done.exists() or done.read_text() != _source_stamp():
            subprocess.run([ROOT / "scripts" / "build-image", tree], check=True, timeout=1800)
            done.write_text(_source_stamp())
    yield tree


def _source_stamp() -> str:
    """What the test's build was made from: the commit and the image definition as it is now
    (one pytest run builds once; the next run builds again if either changed)."""
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    files = sorted(p for p in IMAGE.rglob("*") if p.is_file())
    latest = max((p.stat().st_mtime_ns for p in files), default=0)
    return f"{head} {len(files)} {latest}"
