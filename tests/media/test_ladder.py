"""The quality ladder's rules (agent/media/ladder.py): what a link carries is read from the
receiver's estimate and its losses, a viewer steps down at once and up only after the link has
carried the next rung for a while."""

from __future__ import annotations

from agent.call.sfu_quality import SMALL
from agent.media.ladder import DOWN_HOLD, LADDER, SOUND_ON_THE_WIRE, UP_HOLD, Climber, LinkEstimate, OutputRate


def test_a_viewer_steps_down_after_a_while_under_its_floor_and_up_one_rung_after_the_link_held() -> None:
    climber = Climber()
    assert climber.follow(None, lossy=True).name == "720p"  # not heard from yet: the top, as a new connection starts
    assert climber.follow(90_000, lossy=True, now=0).name == "720p"  # one low report is not yet a poor link
    assert climber.follow(500_000, lossy=True, now=1).name == "720p"
    assert climber.follow(90_000, lossy=True, now=2).name == "720p"  # the wait starts again
    assert climber.follow(90_000, lossy=True, now=2 + DOWN_HOLD).name == "180p à 15 i/s"  # down past two rungs at once
    assert climber.follow(400_000, lossy=True, now=5).name == "180p à 15 i/s"  # better, but not for long enough
    assert climber.follow(400_000, lossy=True, now=5 + UP_HOLD).name == "360p à 15 i/s"  # one rung up after holding
    assert climber.follow(260_000, lossy=True, now=6 + UP_HOLD).name == "360p à 15 i/s"  # under the margin: the wait starts again
    assert climber.follow(400_000, lossy=True, now=7 + UP_HOLD).name == "360p à 15 i/s"
    assert climber.follow(400_000, lossy=True, now=7 + 2 * UP_HOLD).name == "360p"
    assert climber.follow(400_000, lossy=True, now=100).name == "360p"  # 400k: not 720p's floor with the margin, nor 360p's ceiling
    assert climber.follow(400_000, lossy=True, now=100 + UP_HOLD).name == "360p"
    climber = Climber()
    climber.follow(120_000, lossy=True, now=0)
    assert climber.follow(120_000, lossy=True, now=DOWN_HOLD).name == "360p à 15 i/s"
    # The receiver's estimate stops at 1.5 times what it gets: at this rung's ceiling (250k) it
    # may never reach 360p's floor with the margin (250k); at the ceiling is enough to try.
    assert climber.follow(240_000, lossy=True, now=10).name == "360p à 15 i/s"
    assert climber.follow(240_000, lossy=True, now=10 + UP_HOLD).name == "360p"


def test_with_nothing_lost_a_dip_of_the_estimate_lowers_the_rate_not_the_size() -> None:
    """A receiver's estimate reads delay, which a busy computer adds too: 400k with nothing lost
    keeps 720p (at 400k); far under its floor, or with losses, the picture shrinks."""
    climber = Climber()
    climber.follow(400_000, lossy=False, now=0)
    assert climber.follow(400_000, lossy=False, now=10).name == "720p"
    assert climber.follow(400_000, lossy=True, now=10 + DOWN_HOLD).name == "720p"  # the wait starts with the loss
    assert climber.follow(400_000, lossy=True, now=10 + 2 * DOWN_HOLD).name == "360p"
    far = Climber()
    far.follow(200_000, lossy=False, now=0)
    assert far.follow(200_000, lossy=False, now=DOWN_HOLD).name == "360p"  # under 60 % of 720p's floor


def test_an_estimate_jumping_about_far_under_the_floor_shrinks_the_picture_on_its_average() -> None:
    # Chromium's estimate of a poor link, a report a second (a CI run of test_poor_link): once the
    # rate has fallen with it, retransmissions make up the losses and no report says « lossy »
    bouncing = [495_000, 78_000, 356_000, 86_000, 103_000, 267_000, 415_000, 100_000]
    climber = Climber()
    rungs = [climber.follow(estimate, lossy=False, now=second).name for second, estimate in enumerate(bouncing)]
    assert rungs[:2] == ["720p", "720p"]  # one low report is not yet a poor link
    assert rungs[3:] == ["360p à 15 i/s"] * 5  # after DOWN_HOLD seconds under 720p's floor, 173 kbit/s on average
    steady = Climber()  # under the floor, but not far under, and nothing lost: only the rate falls
    assert all(steady.follow(estimate, lossy=False, now=second).name == "720p"
               for second, estimate in enumerate([400_000, 300_000, 420_000, 280_000, 390_000] * 4))


def test_a_link_is_lossy_while_one_of_its_last_reports_lost_something() -> None:
    link = LinkEstimate()
    assert not link.lossy
    link.on_loss(0.05, sending_at=500_000)
    assert link.lossy
    for _ in range(3):
        link.on_loss(0.0, sending_at=500_000)
    assert not link.lossy


def test_a_receiver_estimate_that_only_follows_a_still_picture_is_not_taken_for_the_link() -> None:
    link = LinkEstimate()
    link.on_remb(900_000)
    link.on_remb(120_000, app_limited=True)  # the camera was off: the receiver got little, its estimate fell
    assert link.for_video == 900_000
    link.on_remb(1_000_000, app_limited=True)
    link.on_remb(400_000)  # sending all it may: that is the link
    assert link.for_video == 400_000


def test_the_sound_comes_off_what_was_sent_not_off_the_receivers_estimate_which_counts_the_picture_alone() -> None:
    """Chromium's REMB counts the packets that carry abs-send-time: aiortc's video, not its sound.
    The loss-based estimate starts from all that was sent, sound included."""
    link = LinkEstimate()
    link.on_remb(300_000)
    assert link.for_video == 300_000 and link.bitrate == 300_000 + SOUND_ON_THE_WIRE
    link.on_loss(0.2, sending_at=400_000)  # 20 % of 400 kbit/s (picture and sound) lost: 360 kbit/s in all
    assert link.for_video == 360_000 - SOUND_ON_THE_WIRE
    for _ in range(10):  # losses over: the loss-based estimate grows until the delay-based one rules again
        link.on_loss(0.0, sending_at=400_000)
    assert link.loss_based is None and link.for_video == 300_000


def test_an_encoder_putting_out_far_less_than_it_may_is_application_limited() -> None:
    output = OutputRate()
    for i in range(60):  # 2 s at 30 frames a second, 1500 bytes each: 360 kbit/s
        output.add(1500, now=i / 30)
    assert 340_000 < output.bitrate(now=2.0) < 380_000
    assert not output.app_limited(500_000, now=2.0) and output.app_limited(1_000_000, now=2.0)
    assert output.bitrate(now=10.0) == 0  # nothing for a while


def test_the_link_is_what_the_lower_of_delay_and_loss_says() -> None:
    link = LinkEstimate()
    assert link.for_video is None
    link.on_remb(800_000)
    link.on_loss(0.05, sending_at=864_000)  # 5 % lost: GCC holds
    assert link.for_video == 800_000
    link.on_loss(0.20, sending_at=800_000)  # 20 % lost: the rate drops by half of it, the sound's share off
    assert link.for_video == 720_000 - SOUND_ON_THE_WIRE
    for _ in range(3):
        link.on_loss(0.0, sending_at=720_000)  # nothing lost: it grows back 5 % a report
    assert link.for_video == int(int(int(720_000 * 1.05) * 1.05) * 1.05) - SOUND_ON_THE_WIRE
    link.on_loss(0.0, sending_at=833_490)
    assert link.for_video == 800_000 and link.loss_based is None  # back above the delay estimate: that rules again


def test_each_rung_is_smaller_or_slower_than_the_one_above() -> None:
    sizes = [r.size(1280, 720) for r in LADDER]
    assert sizes == [(1280, 720), (640, 360), (640, 360), (320, 180)]
    assert all(a.floor > b.floor for a, b in zip(LADDER, LADDER[1:]))
    assert LADDER[0].size(960, 540) == (960, 540)  # never larger than the camera


def test_a_climber_with_a_top_starts_there_and_never_climbs_above_it() -> None:
    """The small picture the cart publishes through Janus (agent/call/sfu_quality.py): at most
    360p at 15 frames a second, however good the link to Janus."""
    climber = Climber(top=SMALL)
    assert climber.follow(None, lossy=False).name == "360p à 15 i/s"
    for now in range(0, 60, 2):
        rung = climber.follow(1_400_000, lossy=False, now=now)
    assert rung.name == "360p à 15 i/s"
    climber.follow(50_000, lossy=True, now=100)
    assert climber.follow(50_000, lossy=True, now=100 + DOWN_HOLD).name == "180p à 15 i/s"  # down still, as any viewer
