"""The life of a teleconsultation dossier on a real database, without HTTP.

The state machine as the nurse and the doctor live it: scheduled, in progress, awaiting the
report (the call may resume), closed for good by the consulted doctor's signature alone, or
cancelled by the EHPAD with a reason (seed 001 §4). Every allowed change is applied, audited under
the resident and queued for the regional server; every other one is refused with the French
labels the message shows, and changes nothing. Creation is all-or-nothing: a refused creation,
or one that fails at its very last step, leaves no consent, dossier, room, invitation, email,
audit record or outbox entry behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import product
from typing import Any

import pytest
from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.dossiers import directory, dossier
from agent.dossiers.dossier import DossierRefused, DossierState, NewDossier
from agent.identity import patients
from agent.links.invitation import ParticipantRole, Settings

Run = Callable[..., Any]
Counts = Callable[[Database], dict[str, int]]
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
S = DossierState

# The dossier's life, written out here rather than read from TRANSITIONS: this is the specification.
ALLOWED = {
    (S.DRAFT, S.SCHEDULED),
    (S.SCHEDULED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.AWAITING_REPORT),
    (S.AWAITING_REPORT, S.IN_PROGRESS),
}
# Reached only by an act, never by a bare move: the signature closes, a cancellation (with its reason) cancels.
BY_ACT = {
    (S.IN_PROGRESS, S.CLOSED): ("signature", "closed_by_signature_only"),
    (S.AWAITING_REPORT, S.CLOSED): ("signature", "closed_by_signature_only"),
    (S.SCHEDULED, S.CANCELLED): ("cancellation", "cancel_needs_reason"),
    (S.IN_PROGRESS, S.CANCELLED): ("cancellation", "cancel_needs_reason"),
    (S.AWAITING_REPORT, S.CANCELLED): ("cancellation", "cancel_needs_reason"),
}
LABELS = {S.DRAFT: "Brouillon", S.SCHEDULED: "Programmée", S.IN_PROGRESS: "En cours",
          S.AWAITING_REPORT: "En attente du compte rendu", S.CLOSED: "Clôturée", S.CANCELLED: "Annulée"}
SPECIALIST = {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "claire.petit@chu.example",
              "mobile": "+33612345601"}


def resident(db: Database, run: Run, actor: Actor) -> str:
    made = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), actor)
    return made.id


def request(patient_id: str, **fields: Any) -> NewDossier:
    values: dict[str, Any] = {"patient_id": patient_id, "consent_given": True, "consent_comment": None,
                              "accompaniment": "alone", "companion": None, "specialist": SPECIALIST, "slot_start": None}
    return NewDossier(**(values | fields))


def scheduled(db: Database, run: Run, actor: Actor, settings: Settings) -> dossier.Dossier:
    return run(db, dossier.create, request(resident(db, run, actor)), actor, settings, NOW)


def put_in(db: Database, dossier_id: str, state: DossierState) -> None:
    """Bring a dossier to `state` as its history would have (a draft is never made by create())."""
    db.execute("UPDATE dossiers SET state = ? WHERE id = ?", [state.value, dossier_id])
    db.conn.commit()


def stored_state(db: Database, dossier_id: str) -> str:
    return db["dossiers"].get(dossier_id)["state"]


def state_records(db: Database, patient_id: str) -> list[str]:
    return [r.detail for r in reversed(list(audit.search(db, patient_id=patient_id))) if r.action == "dossier.state"]


# --- the state machine --------------------------------------------------------------------------

@pytest.mark.parametrize(("current", "wanted"), [pair for pair in product(S, S) if pair in ALLOWED],
                         ids=lambda s: s.value)
def test_an_allowed_change_is_applied_audited_and_queued(db: Database, run: Run, nurse: Actor, settings: Settings,
                                                         current: DossierState, wanted: DossierState) -> None:
    made = scheduled(db, run, nurse, settings)
    put_in(db, made.id, current)
    assert run(db, dossier.transition, made.id, wanted, nurse) is wanted
    assert stored_state(db, made.id) == wanted.value
    assert dossier.load(db, made.id, settings).state_label == LABELS[wanted]
    assert state_records(db, made.patient["id"]) == [f"télédossier n° {made.id[:8]} : {LABELS[current]} → {LABELS[wanted]}"]
    queued = db.execute("SELECT payload FROM outbox WHERE entity = 'dossier' AND entity_id = ? AND operation = 'state'",
                        [made.id]).fetchall()
    assert queued == [(f'{{"state": "{wanted.value}"}}',)]


@pytest.mark.parametrize(("current", "wanted"), list(BY_ACT), ids=lambda s: s.value)
def test_closing_and_cancelling_are_acts_not_moves(db: Database, run: Run, nurse: Actor, settings: Settings,
                                                  counts: Counts, current: DossierState, wanted: DossierState) -> None:
    made = scheduled(db, run, nurse, settings)
    put_in(db, made.id, current)
    before = counts(db)
    act, refusal = BY_ACT[(current, wanted)]
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.transition, made.id, wanted, nurse)
    assert refused.value.code == refusal and stored_state(db, made.id) == current.value and counts(db) == before
    assert run(db, dossier.transition, made.id, wanted, nurse, by=act) is wanted


def test_a_cancelled_dossier_says_why_and_its_links_stop_opening(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    made = scheduled(db, run, nurse, settings)
    run(db, dossier.cancel, made.id, "Résident hospitalisé", nurse)
    shown = dossier.load(db, made.id, settings)
    assert shown.state is S.CANCELLED and shown.cancellation["reason"] == "Résident hospitalisé"
    assert all(i["revoked_at"] for i in shown.invitations)
    assert [r.detail for r in audit.search(db, patient_id=made.patient["id"]) if r.action == "dossier.cancel"] == [
        f"télédossier n° {made.id[:8]} : Résident hospitalisé"]
    with pytest.raises(DossierRefused, match="bad_transition"):
        run(db, dossier.transition, made.id, S.IN_PROGRESS, nurse)


@pytest.mark.parametrize(("current", "wanted"), [pair for pair in product(S, S) if pair not in ALLOWED and pair not in BY_ACT],
                         ids=lambda s: s.value)
def test_any_other_change_is_refused_and_changes_nothing(db: Database, run: Run, nurse: Actor, settings: Settings,
                                                         counts: Counts, current: DossierState, wanted: DossierState) -> None:
    made = scheduled(db, run, nurse, settings)
    put_in(db, made.id, current)
    before = counts(db)
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.transition, made.id, wanted, nurse)
    assert refused.value.code == "bad_transition"
    assert refused.value.params == {"current": LABELS[current], "wanted": LABELS[wanted]}
    assert stored_state(db, made.id) == current.value
    assert counts(db) == before


def test_a_call_may_resume_while_the_report_is_awaited_but_nothing_leaves_closed(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    made = scheduled(db, run, nurse, settings)
    for state in (S.IN_PROGRESS, S.AWAITING_REPORT, S.IN_PROGRESS, S.AWAITING_REPORT):
        run(db, dossier.transition, made.id, state, nurse)
    run(db, dossier.transition, made.id, S.CLOSED, nurse, by="signature")
    for state in S:
        with pytest.raises(DossierRefused, match="bad_transition"):
            run(db, dossier.transition, made.id, state, nurse)
    assert len(state_records(db, made.patient["id"])) == 5
    assert audit.verify(db)[1] is None


def test_changing_an_unknown_dossier_is_refused_as_not_found(db: Database, run: Run, nurse: Actor) -> None:
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.transition, "no-such-dossier", S.IN_PROGRESS, nurse)
    assert refused.value.code == "not_found"


# --- other refusals on an existing dossier --------------------------------------------------------

def test_no_one_is_invited_into_a_closed_dossier(db: Database, run: Run, nurse: Actor, settings: Settings, counts: Counts) -> None:
    made = scheduled(db, run, nurse, settings)
    put_in(db, made.id, S.CLOSED)
    before = counts(db)
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.invite_participant, made.id, ParticipantRole.RELATIVE, {"name": "DUPONT", "email": "fille@famille.example"},
            nurse, settings)
    assert refused.value.code == "dossier_closed"
    assert counts(db) == before


def test_a_revoked_invitation_is_not_sent_again(db: Database, run: Run, nurse: Actor, settings: Settings, counts: Counts) -> None:
    made = scheduled(db, run, nurse, settings)
    [invited] = made.invitations
    run(db, dossier.revoke, made.id, invited["id"], nurse)
    run(db, dossier.revoke, made.id, invited["id"], nurse)  # a second tap: no second record
    revocations = [r for r in audit.search(db, patient_id=made.patient["id"]) if r.action == "invitation.revoke"]
    assert len(revocations) == 1
    before = counts(db)
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.resend, made.id, invited["id"], nurse, settings)
    assert refused.value.code == "invitation_revoked"
    assert counts(db) == before


def test_an_invitation_of_another_dossier_is_not_found(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    first = scheduled(db, run, nurse, settings)
    second = run(db, dossier.create, request(resident(db, run, nurse), confirm_overlap=True), nurse, settings, NOW)
    for action in (lambda: run(db, dossier.revoke, first.id, second.invitations[0]["id"], nurse),
                   lambda: run(db, dossier.resend, first.id, second.invitations[0]["id"], nurse, settings)):
        with pytest.raises(DossierRefused, match="not_found"):
            action()
    assert db["invitations"].get(second.invitations[0]["id"])["revoked_at"] is None


# --- one cart, one room at a time ---------------------------------------------------------------

def test_a_slot_the_cart_already_holds_is_refused_unless_confirmed(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    at = lambda minutes: NOW + timedelta(hours=3, minutes=minutes)  # noqa: E731
    first = run(db, dossier.create, request(resident(db, run, nurse), slot_start=at(0), slot_minutes=30), nurse, settings, NOW)
    for start, minutes in ((-15, 20), (10, 5), (29, 30), (-60, 120)):  # any shared minute
        with pytest.raises(dossier.SlotTaken) as refused:
            run(db, dossier.create, request(resident(db, run, nurse), slot_start=at(start), slot_minutes=minutes), nurse, settings, NOW)
        assert [o["dossier_id"] for o in refused.value.params["overlaps"]] == [first.id]
    for start, minutes in ((30, 30), (-20, 20)):  # touching ends share no minute
        run(db, dossier.create, request(resident(db, run, nurse), slot_start=at(start), slot_minutes=minutes), nurse, settings, NOW)
    # Once its call is over (awaiting the report) or cancelled, a consultation no longer holds the cart.
    put_in(db, first.id, DossierState.AWAITING_REPORT)
    run(db, dossier.create, request(resident(db, run, nurse), slot_start=at(5), slot_minutes=10), nurse, settings, NOW)


# --- creation is all-or-nothing -----------------------------------------------------------------

def test_a_created_dossier_is_scheduled_with_its_consent_room_and_invitation(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    """The baseline the refusals below are measured against."""
    made = scheduled(db, run, nurse, settings)
    assert made.state is S.SCHEDULED
    assert made.consent["given"] is True and made.consent["collected_by"] == nurse.login
    assert made.room == {"id": made.room["id"], "opens_at": "2030-03-04T09:00:00Z", "closes_at": "2030-03-04T10:15:00Z"}
    [invited] = made.invitations
    assert invited["role"] == "specialist" and invited["link"].startswith(f"{settings.public_url}/s/{made.room['id']}/")
    assert sorted(d["channel"] for d in invited["deliveries"]) == ["email", "sms"]
    actions = {r.action for r in audit.search(db, patient_id=made.patient["id"])}
    assert {"consent.record", "dossier.create", "invitation.send"} <= actions


def _inactive(db: Database, run: Run, actor: Actor) -> dict[str, Any]:
    pro = run(db, directory.add, {"name": "ROUX", "specialty": "Dermatologie", "email": "roux@chu.example"}, actor)
    run(db, directory.update, pro.id, {"active": False}, actor)
    return {"directory_id": pro.id}


def _unreachable(db: Database, run: Run, actor: Actor) -> dict[str, Any]:
    pro = run(db, directory.add, {"name": "NGUYEN", "first_name": "Linh", "specialty": "Gériatrie"}, actor)
    return {"directory_id": pro.id}


@pytest.mark.parametrize(("change", "code", "params"), [
    (lambda db, run, actor: {"patient_id": "no-such-resident"}, "patient_unknown", {}),
    (lambda db, run, actor: {"specialist": {"directory_id": 99999}}, "specialist_unknown", {}),
    (lambda db, run, actor: {"specialist": _inactive(db, run, actor)}, "specialist_unknown", {}),
    (lambda db, run, actor: {"specialist": _unreachable(db, run, actor)}, "specialist_unreachable", {"name": "Dr Linh Nguyen"}),
    (lambda db, run, actor: {"slot_start": NOW - timedelta(minutes=6)}, "slot_in_past", {}),
], ids=["unknown_patient", "unknown_specialist", "inactive_specialist", "unreachable_specialist", "slot_in_past"])
def test_a_refused_creation_saves_nothing(db: Database, run: Run, nurse: Actor, settings: Settings, counts: Counts,
                                          change: Callable[..., dict[str, Any]], code: str, params: dict[str, Any]) -> None:
    wanted = request(**({"patient_id": resident(db, run, nurse)} | change(db, run, nurse)))
    before = counts(db)
    with pytest.raises(DossierRefused) as refused:
        run(db, dossier.create, wanted, nurse, settings, NOW)
    assert (refused.value.code, refused.value.params) == (code, params)
    assert counts(db) == before


def test_a_slot_that_began_a_few_minutes_ago_is_still_accepted(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    """Five minutes of grace: the nurse who took a while in the wizard is not sent back."""
    start = NOW - timedelta(minutes=4)
    made = run(db, dossier.create, request(resident(db, run, nurse), slot_start=start), nurse, settings, NOW)
    assert made.slot == {"start": "2030-03-04T08:56:00Z", "duration_minutes": 30}
    assert made.room["opens_at"] == "2030-03-04T08:41:00Z"


def test_missing_consent_without_a_reason_is_refused_by_the_database_itself(
        db: Database, run: Run, nurse: Actor, settings: Settings, counts: Counts) -> None:
    wanted = request(resident(db, run, nurse), consent_given=False, consent_comment="  ")
    before = counts(db)
    with pytest.raises(Exception, match="CHECK constraint failed"):
        run(db, dossier.create, wanted, nurse, settings, NOW)
    assert counts(db) == before


def test_a_failure_at_the_last_step_leaves_no_half_made_dossier(
        db: Database, run: Run, nurse: Actor, settings: Settings, counts: Counts) -> None:
    """The email cannot be queued (the disk gives way): no dossier whose invitation never leaves."""
    wanted = request(resident(db, run, nurse), accompaniment="relative",
                     companion={"name": "DUPONT", "first_name": "Anne", "remote": True, "email": "anne@famille.example"})
    db.execute("CREATE TEMP TRIGGER queue_fails BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    before = counts(db)
    with pytest.raises(Exception, match="disk I/O error"):
        run(db, dossier.create, wanted, nurse, settings, NOW)
    assert counts(db) == before
    assert before["dossiers"] == before["consents"] == before["rooms"] == before["invitations"] == 0
    assert audit.verify(db)[1] is None


# --- the fiche as it is typed ----------------------------------------------------------------------

def test_a_fiche_draft_is_its_authors_until_saved_and_goes_with_the_dossiers_end(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    from agent.dossiers import fiche, fiche_draft

    made = scheduled(db, run, nurse, settings)
    run(db, fiche_draft.save, made.id, nurse.login, {"reason": "Plaie du talon"})
    assert run(db, fiche_draft.load, made.id, nurse.login) == {"reason": "Plaie du talon"}
    assert run(db, fiche_draft.load, made.id, "une-autre") is None  # one's own working copy
    run(db, fiche.update, made.id, {"reason": "Plaie du talon"}, nurse)
    assert run(db, fiche_draft.load, made.id, nurse.login) is None  # saved: the draft has served

    run(db, fiche_draft.save, made.id, nurse.login, {"observations": "Bords nets"})
    run(db, dossier.cancel, made.id, "Résident hospitalisé", nurse)
    assert run(db, fiche_draft.load, made.id, nurse.login) is None
    with pytest.raises(DossierRefused, match="dossier_cancelled"):
        run(db, fiche_draft.save, made.id, nurse.login, {"observations": "Bords nets"})


def test_a_code_asked_by_the_other_channel_cancels_the_stuck_code_not_the_invitation(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    """The link's invitation and its codes share the invitation as their ref: replacing a code
    stuck on SMS by one by email must leave the invitation's own messages queued."""
    from agent.links import specialist_access

    made = scheduled(db, run, nurse, settings)
    room, token = made.invitations[0]["link"].rsplit("/", 2)[-2:]
    first = run(db, specialist_access.send_code, room, token, NOW, 72, "EHPAD", None)
    assert first["channel"] == "sms" and first["other_channel"] == "email"
    run(db, specialist_access.send_code, room, token, NOW, 72, "EHPAD", "email")  # at once: the SMS has not left
    states = {(r["purpose"], r["channel"]): r["state"] for r in db.query("SELECT purpose, channel, state FROM deliveries")}
    assert states == {("invitation", "email"): "pending", ("invitation", "sms"): "pending",
                      ("otp", "sms"): "failed", ("otp", "email"): "pending"}
