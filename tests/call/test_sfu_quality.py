"""Which of the cart's pictures a viewer gets through Janus (agent/call/sfu_quality.py), from the
counts their page reports every 2 s. The figures are those of tests/call/test_sfu.py's viewer
behind 500 kbit/s: the large picture at 1.5 Mbit/s loses about 2 packets in 3, the small one the
link's own 5 %."""

from __future__ import annotations

from agent.call.sfu_quality import DOWN_REPORTS, UP_HOLD, UP_HOLD_MAX, PictureChoice


class Page:
    """A viewer's page: its cumulative counts of the cart's picture, reported every 2 s."""

    def __init__(self, choice: PictureChoice) -> None:
        self.choice, self.lost, self.received, self.at = choice, 0, 0, 0.0

    def reports(self, *each: tuple[int, int]) -> list[bool]:
        """Reports of (lost, received) since the last one; the choice after each."""
        seen = []
        for more_lost, more_received in each:
            self.lost, self.received, self.at = self.lost + more_lost, self.received + more_received, self.at + 2
            self.choice.report(self.lost, self.received, self.at)
            seen.append(self.choice.small)
        return seen


LARGE_ON_500K, SMALL_ON_500K, GOOD = (170, 100), (3, 60), (0, 280)


def test_a_link_that_loses_the_large_picture_gets_the_small_one_after_two_reports() -> None:
    page = Page(PictureChoice())
    assert page.reports((0, 0), (2, 250), LARGE_ON_500K, LARGE_ON_500K, SMALL_ON_500K) == [False, False, False, True, True]


def test_a_good_link_keeps_the_large_picture_and_an_odd_loss_does_not_move_it() -> None:
    page = Page(PictureChoice())
    assert not any(page.reports((0, 0), *[(1, 280), (40, 250), GOOD] * 10))


def test_back_to_the_large_picture_after_the_hold_then_less_often_when_it_fails_again() -> None:
    page = Page(PictureChoice())
    page.reports((0, 0), *[LARGE_ON_500K] * DOWN_REPORTS)
    clean = page.reports(*[(0, 60)] * int(UP_HOLD / 2 + 1))
    assert clean[-1] is False and clean[-2] is True  # UP_HOLD clean: the large picture again
    page.reports(*[LARGE_ON_500K] * DOWN_REPORTS)  # it fails at once
    assert page.choice.small and page.choice.hold == 2 * UP_HOLD  # the next try waits twice as long
    assert all(page.reports(*[(0, 60)] * int(UP_HOLD / 2 + 1)))  # so UP_HOLD is not enough now
    for _ in range(6):  # a link between the two pictures: each try fails at once
        page.reports(*[(0, 60)] * int(page.choice.hold / 2 + 1), *[LARGE_ON_500K] * DOWN_REPORTS)
    assert page.choice.small and page.choice.hold == UP_HOLD_MAX


def test_the_small_picture_stays_on_a_link_that_keeps_losing_and_a_new_path_starts_counting_again() -> None:
    page = Page(PictureChoice())
    page.reports((0, 0), LARGE_ON_500K, LARGE_ON_500K)
    assert all(page.reports(*[SMALL_ON_500K] * 30))  # 5 % lost all along: the large one never tried again
    page.choice.new_path()  # its counts start from zero: not read as a loss, nor as a negative one
    assert page.choice.report(0, 10, page.at + 2) is False and page.choice.small


class Janus:
    """What SfuPath asks of agent/call/janus.py's JanusRoom, kept: the subscriptions offered and the
    participants' layers asked for (the real one is driven against Janus in tests/call/test_sfu.py)."""

    feed, mids, video, small_video = 1, {"audio": "0", "video": "1", "small": "2"}, None, None

    def __init__(self) -> None:
        self.offered: list[tuple[str, str, list[str] | None]] = []
        self.layers: list[tuple[str, str, bool]] = []

    def feed_of(self, owner: str) -> int:
        return 10 + int(owner[1:])

    def watched_by(self, viewer: str) -> list[str]:
        return ["cart", "p2", "p3"]

    async def subscribe(self, viewer: str, owner: str, feed: int, mids: list[str] | None) -> dict[str, str]:
        self.offered.append((viewer, owner, mids))
        return {"type": "offer", "sdp": "v=0"}

    async def small_layer(self, viewer: str, owner: str, small: bool) -> None:
        self.layers.append((viewer, owner, small))


def test_the_viewers_link_moves_the_participants_layers_with_the_carts_picture_and_back() -> None:
    """One link, one decision: the viewer moved to the cart's small picture gets the others' low
    layer too, and their high layer again with the cart's large picture once the link is clean."""
    from agent.call.sfu_path import CART, SfuPath
    from tests.notify.servers import run_async

    sent: list[dict] = []

    async def send(viewer: str, message: dict) -> None:
        sent.append(message)

    async def scenario() -> Janus:
        janus = Janus()
        path = SfuPath(janus, send, lambda: ["p1"])  # type: ignore[arg-type]
        await path.viewer_in("p1", [CART, "p2", "p3"])
        lost = received = 0
        at = 0.0
        for more_lost, more_received in [(0, 0), *[LARGE_ON_500K] * DOWN_REPORTS, *[(0, 60)] * int(UP_HOLD / 2 + 2)]:  # (a new path: its first report counts from there)
            lost, received, at = lost + more_lost, received + more_received, at + 2
            await path.report("p1", lost, received, now=at)
        return janus

    janus = run_async(scenario())
    assert janus.layers == [("p1", "p2", True), ("p1", "p3", True), ("p1", "p2", False), ("p1", "p3", False)]
    carts = [mids for viewer, owner, mids in janus.offered if owner == CART]
    assert carts == [["0", "1"], ["0", "2"], ["0", "1"]]  # large, small, large again: each a new subscription
    assert len(sent) == len(janus.offered)  # each offer reached the viewer's page
