"""The card tests share the machine's one pcscd and its virtual reader: each module holds a lock
on them for as long as it runs (the other worker, if it reaches card tests too, waits), and starts
pcscd when none runs. (xdist's loadgroup would keep them on one worker, but pytest 9.2 ignores the
node id it rewrites to do so: the lock works whatever the scheduler.)"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator

import pytest

from tests.card.harness import Pcscd

LOCK = "/tmp/telecart-card-tests.lock"


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        daemon = Pcscd().start()
        try:
            yield daemon
        finally:
            daemon.stop()
