from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import running_agent
from tests.live import LiveAgent


@pytest.fixture
def agent_with(tmp_path: Path) -> Iterator[Callable[..., LiveAgent]]:
    """Start an agent with a special configuration for one test: `agent_with(security={...})`."""
    with contextlib.ExitStack() as stack:
        def start(**sections: dict[str, Any]) -> LiveAgent:
            return stack.enter_context(running_agent(tmp_path, **sections))

        yield start
