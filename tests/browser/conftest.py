"""Browser fixtures: Debian's Chromium driven by Playwright against a live agent on loopback.

One browser for the whole session, a fresh context per test at the cart's touchscreen size
(1280x800, touch events on). Every page records its console errors and uncaught exceptions; a
test whose page threw fails at teardown. Resource-load failures ("Failed to load resource", such
as the 401 of the first GET /api/v1/session before login, or a 404 page) and a WebSocket refused
while the agent restarts are expected and ignored.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error,
    Page,
    expect,
    sync_playwright,
)

from tests.browser.kiosk import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    PageProblems,
    agent_in,
)
from tests.live import LiveAgent

expect.set_options(timeout=5_000)


# --- agents -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    """One agent with the demo data (residents, dossiers in every state) for a whole module."""
    with agent_in(tmp_path_factory.mktemp("demo"), demo=True) as agent:
        yield agent


# --- browser ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Page]:
    """A page of the test's context whose JavaScript errors fail the test. A failed test leaves a
    screenshot of where it stood, named after the test, in the artifacts folder."""
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("request", lambda req: problems.requests.append(req.url))
    page.problems = problems  # type: ignore[attr-defined]
    yield page
    if request.node.stash.get(_CALL_FAILED, False):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        with contextlib.suppress(Error):
            page.screenshot(path=str(artifacts / f"FAILED-{name}.png"))
    assert not problems.page_errors, "uncaught JavaScript exceptions:\n" + "\n".join(problems.page_errors)
    assert not problems.console_errors, "console errors:\n" + "\n".join(problems.console_errors)
