"""Invitation links on a real database, without HTTP: when the link a specialist or a relative
received opens the room, and why it does not.

A room opens shortly before the slot and stays open some time after it; the link names the room
and carries a token signed by the cart. Each refusal is a different French page for the person
holding the link ("not yet open, come back at…", "closed", "cancelled", "not recognised", "another
room"), so each case must give its own reason, and a link that is not genuine must learn nothing
about the room (no admission attached).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlite_utils import Database

from agent.audit import Actor
from agent.dossiers import dossier
from agent.identity import patients
from agent.links import invitation
from agent.links.invitation import Admission, LinkRefused, ParticipantRole, Refusal, Settings, Window

Run = Callable[..., Any]
SLOT = datetime(2030, 3, 4, 13, 30, tzinfo=UTC)  # 14 h 30 in Paris
SECOND = timedelta(seconds=1)


def test_the_window_opens_before_the_slot_and_stays_open_after_it() -> None:
    window = invitation.window_for_slot(SLOT, 20, 15, 45)
    assert window == Window(datetime(2030, 3, 4, 13, 15, tzinfo=UTC), datetime(2030, 3, 4, 14, 35, tzinfo=UTC))
    assert window.contains(window.opens_at) and window.contains(window.closes_at - SECOND)
    assert not window.contains(window.opens_at - SECOND) and not window.contains(window.closes_at)


def test_a_window_without_margins_is_the_slot_itself() -> None:
    assert invitation.window_for_slot(SLOT, 30, 0, 0) == Window(SLOT, SLOT + timedelta(minutes=30))


class Room:
    """A room with one invited relative, as the cart makes it."""

    def __init__(self, db: Database, run: Run, actor: Actor, window: Window) -> None:
        self.db, self.run, self.actor, self.window = db, run, actor, window
        self.id = run(db, invitation.create_room, window, actor)
        self.participant = run(db, invitation.add_participant, self.id, ParticipantRole.RELATIVE,
                               {"name": "LEFEBVRE", "first_name": "Paul", "email": "paul@famille.example"})
        self.invitation = run(db, invitation.invite, self.participant, actor)
        self.token = invitation.token_for(run(db, invitation.signing_key), self.id, self.invitation)

    def admit(self, at: datetime, token: str | None = None, room_id: str | None = None) -> Admission:
        return self.run(self.db, invitation.admit, self.id if room_id is None else room_id,
                        self.token if token is None else token, at)

    def refusal(self, at: datetime, token: str | None = None, room_id: str | None = None) -> LinkRefused:
        with pytest.raises(LinkRefused) as refused:
            self.admit(at, token, room_id)
        return refused.value


@pytest.fixture
def room(db: Database, run: Run, nurse: Actor) -> Room:
    return Room(db, run, nurse, invitation.window_for_slot(SLOT, 30, 15, 45))


def test_within_the_window_the_link_opens_the_room_for_its_participant(room: Room) -> None:
    for moment in (room.window.opens_at, SLOT, room.window.closes_at - SECOND):
        admitted = room.admit(moment)
        assert (admitted.room_id, admitted.invitation_id, admitted.participant_id) == (room.id, room.invitation, room.participant)
        assert admitted.role is ParticipantRole.RELATIVE
        assert invitation.display_name(admitted) == "Paul LEFEBVRE"


def test_before_the_window_the_link_says_when_the_room_opens(room: Room) -> None:
    refused = room.refusal(room.window.opens_at - SECOND)
    assert refused.reason is Refusal.NOT_YET
    assert refused.admission is not None and refused.admission.window == room.window  # the page prints the opening time


def test_after_the_window_the_room_is_closed(room: Room) -> None:
    for moment in (room.window.closes_at, room.window.closes_at + timedelta(days=30)):
        refused = room.refusal(moment)
        assert refused.reason is Refusal.CLOSED and refused.admission.window == room.window


def test_a_revoked_link_says_so_even_within_or_outside_the_window(db: Database, run: Run, nurse: Actor, room: Room) -> None:
    assert run(db, invitation.revoke, room.invitation, nurse) is True
    assert run(db, invitation.revoke, room.invitation, nurse) is False  # already revoked
    for moment in (room.window.opens_at - timedelta(hours=1), SLOT, room.window.closes_at + SECOND):
        assert room.refusal(moment).reason is Refusal.REVOKED


def test_a_new_invitation_for_the_same_person_still_opens_after_the_old_one_is_revoked(
        db: Database, run: Run, nurse: Actor, room: Room) -> None:
    run(db, invitation.revoke, room.invitation, nurse)
    again = run(db, invitation.invite, room.participant, nurse)
    token = invitation.token_for(run(db, invitation.signing_key), room.id, again)
    assert room.admit(SLOT, token).invitation_id == again
    assert room.refusal(SLOT).reason is Refusal.REVOKED


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),         # one character of the signature changed
    lambda token: "x" + token,                                               # another invitation id, same signature
    lambda token: token.split(".")[0] + "." + "A" * len(token.split(".")[1]),  # a made-up signature
    lambda token: token + ".extra",
], ids=["signature", "invitation", "made_up", "appended"])
def test_a_tampered_token_is_not_recognised_and_learns_nothing(room: Room, tamper: Callable[[str], str]) -> None:
    refused = room.refusal(SLOT, tamper(room.token))
    assert refused.reason is Refusal.FORGED and refused.admission is None


def test_a_token_signed_by_another_cart_is_not_recognised(room: Room) -> None:
    foreign = invitation.token_for(b"\x01" * 32, room.id, room.invitation)
    assert room.refusal(SLOT, foreign).reason is Refusal.FORGED


@pytest.mark.parametrize("token", ["", "no-signature", "no-signature.", ".no-invitation", "a." + "b" * 100],
                         ids=["empty", "no_dot", "empty_signature", "empty_invitation", "too_long"])
def test_a_cut_or_padded_link_is_malformed(room: Room, token: str) -> None:
    refused = room.refusal(SLOT, token)
    assert refused.reason is Refusal.MALFORMED and refused.admission is None


def test_a_genuine_link_used_on_another_room_is_refused_without_details(db: Database, run: Run, nurse: Actor, room: Room) -> None:
    other = Room(db, run, nurse, room.window)
    refused = room.refusal(SLOT, room.token, room_id=other.id)
    assert refused.reason is Refusal.OTHER_ROOM and refused.admission is None
    # Nor does the other room's own link open this one.
    assert other.refusal(SLOT, other.token, room_id=room.id).reason is Refusal.OTHER_ROOM


def test_the_cart_keeps_its_signing_key_so_links_already_sent_keep_working(db: Database, run: Run, room: Room) -> None:
    assert run(db, invitation.signing_key) == run(db, invitation.signing_key)
    assert len(run(db, invitation.signing_key)) == 32
    assert room.admit(SLOT).invitation_id == room.invitation


def test_the_link_a_scheduled_specialist_receives_follows_the_dossiers_window(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    """What the specialist does: open the link of the email 16, then 15 minutes before the slot."""
    resident = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse)
    new = dossier.NewDossier(resident.id, True, None, "alone", None,
                             {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "c.petit@chu.example"},
                             SLOT, 20)
    made = run(db, dossier.create, new, nurse, settings, SLOT - timedelta(days=1))
    [sent] = made.invitations
    _, _, room_id, token = urlsplit(sent["link"]).path.split("/")
    assert room_id == made.room["id"]

    early = SLOT - timedelta(minutes=settings.opens_before_minutes)
    with pytest.raises(LinkRefused) as too_soon:
        run(db, invitation.admit, room_id, token, early - SECOND)
    assert too_soon.value.reason is Refusal.NOT_YET and too_soon.value.admission.dossier_id == made.id

    admitted = run(db, invitation.admit, room_id, token, early)
    assert (admitted.dossier_id, admitted.role) == (made.id, ParticipantRole.SPECIALIST)
    assert invitation.display_name(admitted) == "Dr Claire PETIT"

    last = SLOT + timedelta(minutes=20 + settings.stays_open_minutes)
    assert run(db, invitation.admit, room_id, token, last - SECOND).invitation_id == sent["id"]
    with pytest.raises(LinkRefused) as too_late:
        run(db, invitation.admit, room_id, token, last)
    assert too_late.value.reason is Refusal.CLOSED
