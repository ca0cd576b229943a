from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.card.harness import ANTOINE, CLAIRE, NADIA, CardDeck, Pcscd, card_deck, machine_reader
from tests.live import LiveAgent, running_agent
from tests.netns import enter_private_network

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    """Before xdist starts its workers: the run moves into a network namespace of its own (tests/netns.py)."""
    if hasattr(config, "workerinput"):
        return  # a worker: already inside its parent's namespace
    why_not = enter_private_network()
    if why_not:
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"tests run on the machine's own network namespace ({why_not}): the calls' ICE may use its address"), stacklevel=2)


@pytest.fixture
def live_agent(tmp_path: Path) -> Iterator[LiveAgent]:
    """A fresh agent with an empty data directory, stopped after the test."""
    with running_agent(tmp_path) as agent:
        yield agent


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    """One agent for a whole test module, when tests do not disturb each other."""
    with running_agent(tmp_path_factory.mktemp("shared")) as agent:
        yield agent


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and other files for a person to look at are saved."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    """The machine's pcscd with its virtual card reader, this module's alone while it runs
    (tests/card/harness.py)."""
    with machine_reader() as daemon:
        yield daemon


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory, pcscd: Pcscd) -> Iterator[CardDeck]:
    """Claire's, Antoine's and Nadia's CPS cards (tests/card/harness.py), none in the reader."""
    with card_deck(tmp_path_factory.mktemp("cards"), CLAIRE, ANTOINE, NADIA) as cards:
        yield cards
