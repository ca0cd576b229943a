"""The cart is used standing, at arm's length, sometimes with gloves, and often offline: touch
targets of 56 px at least each way (docs/architecture.md), body text of 18 px at least, no
sideways scrolling at 1280x800, and nothing fetched from anywhere but the cart itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.access.roles import Role
from tests.browser.kiosk import DOSSIERS, VIEWPORT, open_kiosk, problems_of, sign_in
from tests.live import LiveAgent

pytestmark = pytest.mark.browser

MIN_TOUCH = 56
MIN_FONT = 18


def check_screen(page: Page, screen: str) -> None:
    targets = page.locator("button:visible, input:visible, select:visible, textarea:visible, a[href]:visible")
    assert targets.count() > 0, f"{screen}: nothing to touch"
    small = []
    for i in range(targets.count()):
        target = targets.nth(i)
        box = target.bounding_box()
        if box is None:  # gone since it was counted (the page re-rendered a part): nothing left to touch
            continue
        # A radio button or a checkbox is drawn narrower than a finger: its label is what is tapped.
        label = target.evaluate("""e => ["radio", "checkbox"].includes(e.type) && e.closest("label")
            ? e.closest("label").getBoundingClientRect().width : null""")
        width = box["width"] if label is None else label
        if box["height"] < MIN_TOUCH or width < MIN_TOUCH:
            small.append(f"{target.evaluate('e => e.outerHTML.slice(0, 120)')} is {width:.0f}x{box['height']:.0f} px")
    assert not small, f"{screen}: touch targets under {MIN_TOUCH} px:\n" + "\n".join(small)

    # A label wider than its button spills over the border or under the next button.
    spilled = page.evaluate("""() => [...document.querySelectorAll('button, a.button')]
        .filter((b) => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
        .map((b) => `"${b.textContent.trim()}" needs ${b.scrollWidth}px, has ${b.clientWidth}px`)""")
    assert not spilled, f"{screen}: button labels wider than their buttons: {spilled}"

    font = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= MIN_FONT, f"{screen}: body font-size {font}px"
    # Every line of text on screen, secondary ones and labels of small buttons too.
    tiny = page.evaluate("""(least) => [...document.querySelectorAll('body *')]
        .filter((e) => e.offsetParent !== null && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
        .filter((e) => parseFloat(getComputedStyle(e).fontSize) < least)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 30)}": ${getComputedStyle(e).fontSize}`)""",
        MIN_FONT)
    assert not tiny, f"{screen}: text under {MIN_FONT} px: {tiny}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    screen_width = (page.viewport_size or VIEWPORT)["width"]  # the kiosk's 1280, or a doctor's phone
    assert width <= screen_width, f"{screen}: page is {width}px wide, scrolls sideways"

    if hasattr(page, "problems"):  # the pages of the `page` fixture record where they fetched from
        foreign = problems_of(page).foreign_hosts()
        assert not foreign, f"{screen}: requests to other hosts: {sorted(foreign)}"


def test_login_and_activity_screens_suit_a_touchscreen(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    open_kiosk(page, demo_agent)
    page.wait_for_load_state("networkidle")
    check_screen(page, "login")

    nurse = demo_agent.add_account(Role.NURSE)
    sign_in(page, demo_agent, nurse)
    expect(page.get_by_role("region", name=DOSSIERS).locator("li.row").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    check_screen(page, "activity")
    requested = problems_of(page).requests
    assert any(url.endswith("/api/v1/dossiers") for url in requested), requested


def test_admin_audit_screen_suits_a_touchscreen(page: Page, demo_agent: LiveAgent, artifacts: Path) -> None:
    """The admin's header holds two more buttons (Activité, Journal des accès) than a nurse's."""
    admin = demo_agent.add_account(Role.ADMIN)
    sign_in(page, demo_agent, admin)
    expect(page.locator("table.records tbody tr").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    check_screen(page, "audit trail")
