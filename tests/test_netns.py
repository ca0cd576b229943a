"""The run's own network namespace (tests/netns.py): what the calls' ICE can gather is the veth
pair inside it, never the machine's address."""

from __future__ import annotations

import os

import pytest
from aioice.ice import get_host_addresses

from tests.netns import ADDRESSES, OFF


def test_ice_gathers_only_the_addresses_of_the_runs_own_namespace() -> None:
    if os.environ.get(OFF) != "inside":
        pytest.skip("the run is on the machine's own network namespace (not root, or TELECART_TEST_NETNS=0)")
    gathered = set(get_host_addresses(use_ipv4=True, use_ipv6=True))
    assert gathered == {address.split("/")[0] for address in ADDRESSES.values()}, gathered
