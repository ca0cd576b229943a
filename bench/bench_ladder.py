"""The quality ladder's reaction to a link that drops to 500 kbit/s with 5 % loss and comes back
(agent/media/ladder.py, issue 16), from the specialist's Chromium behind a gate (tests/ward.py):

- how long the cart takes to step down, and to step up again (first rung, then back to 720p);
- what the specialist gets on the poor link, against the same call on the good link in the same
  run: frames presented per second, share of the sound made up by the receiver (concealed),
  freezes; and the FEC packets the receiver used.

Times are in seconds from the change of the link; the ratios compare the poor link with the good.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from playwright.sync_api import sync_playwright

from bench._common import figure, scratch_dir

RATE_KBIT, LOSS = 500, 0.05
WINDOW_S = 8.0
BACK_TO_720P_S = 120.0

RECEIVED = """async (peer) => {
  const pc = window.telecartRoom.pcs.get(peer);
  const out = { frames: 0, freezes: 0, samples: 0, concealed: 0, fec: 0 };
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    if (s.kind === "video") Object.assign(out, { frames: s.framesDecoded || 0, freezes: s.freezeCount || 0 });
    if (s.kind === "audio") Object.assign(out, { samples: s.totalSamplesReceived || 0, concealed: s.concealedSamples || 0,
                                                 fec: s.fecPacketsReceived || 0 });
  });
  return out;
}"""


def _window(page: Any) -> dict[str, float]:
    before = page.evaluate(RECEIVED, "cart")
    time.sleep(WINDOW_S)
    after = page.evaluate(RECEIVED, "cart")
    samples = max(after["samples"] - before["samples"], 1)
    return {"fps": (after["frames"] - before["frames"]) / WINDOW_S, "freezes": after["freezes"] - before["freezes"],
            "concealed": (after["concealed"] - before["concealed"]) / samples, "fec": after["fec"]}


def figures() -> Iterator[dict[str, Any]]:
    from agent.access.roles import Role
    from agent.media.ladder import LADDER
    from tests.api.helpers import logged_in
    from tests.call import harness
    from tests.call.test_relay_and_mesh import SPECIALIST, enter_call, join, wait_for_picture
    from tests.call.test_turn_tls import cart_reached_from
    from tests.call.turn import chromium_home, make_authority
    from tests.ward import Ward, ward

    why_not = Ward.unavailable()
    if why_not:
        yield {"name": "ladder", "error": f"no ward here: {why_not}"}
        return
    order = [rung.name for rung in LADDER]
    with scratch_dir("ladder") as work, ward(work / "ward") as behind:
        tls = make_authority(work / "tls", behind.outside)
        executable = behind.chromium(env={"HOME": str(chromium_home(work / "home", tls.ca))})
        with cart_reached_from(behind.outside, work, tls, call={}) as cart, sync_playwright() as playwright:
            technician = logged_in(cart.agent, cart.agent.add_account(Role.TECHNICIAN))

            def rung() -> str:
                stats = technician.get(cart.url("/call/stats")).json()
                return next(p for p in stats["participants"] if p["role"] == "specialist")["sent"].get("quality") or ""

            def until(check: Any, limit: float) -> float | None:
                started = time.monotonic()
                while time.monotonic() - started < limit:
                    if check():
                        return time.monotonic() - started
                    time.sleep(0.25)
                return None

            made = cart.dossier(email=SPECIALIST)
            link = cart.emailed_link(SPECIALIST)
            browser = playwright.chromium.launch(executable_path=executable, args=harness.CHROMIUM_ARGS + harness.MEDIA_ARGS)
            try:
                _, page = harness.new_page(browser)
                join(page, link)
                enter_call(cart, made["id"])
                wait_for_picture(page, "cart")
                until(lambda: rung() == "720p", 20)
                time.sleep(3)
                good = _window(page)

                behind.shape(RATE_KBIT, loss=LOSS)
                down = until(lambda: rung() not in ("", "720p"), 60)
                time.sleep(3)
                poor = _window(page)
                degraded = rung()

                behind.shape(None)
                started = time.monotonic()
                first_up = until(lambda: order.index(rung()) < order.index(degraded), BACK_TO_720P_S)
                full = until(lambda: rung() == "720p", max(0.0, BACK_TO_720P_S - (time.monotonic() - started)))
                full = None if full is None else time.monotonic() - started
            finally:
                browser.close()

    yield {"name": "ladder.step_down_s", "value": down, "unit": "s", "detail": f"{RATE_KBIT} kbit/s, {LOSS:.0%} lost; to {degraded}"}
    yield {"name": "ladder.first_step_up_s", "value": first_up, "unit": "s", "detail": f"from {degraded}"}
    yield {"name": "ladder.back_to_720p_s", "value": full, "unit": "s", "detail": f"none within {BACK_TO_720P_S:.0f} s" if full is None else ""}
    yield figure("ladder.poor_link.fps", poor["fps"], "fps", baseline=good["fps"]) | {"rung": degraded}
    yield figure("ladder.poor_link.concealed_share", poor["concealed"], "share", baseline=good["concealed"] or None)
    yield {"name": "ladder.poor_link.freezes", "value": poor["freezes"], "unit": f"per {WINDOW_S:.0f} s", "baseline": good["freezes"]}
    yield {"name": "ladder.poor_link.fec_packets_used", "value": poor["fec"], "unit": "packets"}
