"""A teleconsultation dossier as a FHIR Appointment (its booked slot) and Encounter (class VR,
virtual: the consultation itself), with its state, the reason, the professionals taking part, the
resident by their cart identifier; and the consent collected for it as a FHIR Consent (FR Core has
profiles for all three).

The dossier's states map onto Encounter.status: programmée → planned, en cours → in-progress,
awaiting its report and closed → finished (the call is over), cancelled → cancelled; and onto
Appointment.status: booked, arrived, fulfilled, cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter

from agent.store.changes import ConsentChange, DossierChange
from cloud_sync.identifiers import CartIdentifiers

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STATUS = {"draft": "planned", "scheduled": "planned", "in_progress": "in-progress", "awaiting_report": "finished",
          "closed": "finished", "cancelled": "cancelled"}
APPOINTMENT_STATUS = {"draft": "proposed", "scheduled": "booked", "in_progress": "arrived", "awaiting_report": "fulfilled",
                      "closed": "fulfilled", "cancelled": "cancelled"}
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"


def _patient(ids: CartIdentifiers, patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient?{ids.search('patient', patient_id)}"}


def encounter(change: DossierChange, ids: CartIdentifiers, professionals: Sequence[dict[str, Any]] = (),
              ended_at: str | None = None) -> Encounter:
    """`professionals`: the health professionals who took part (fhir_practitioner.participant_reference);
    `ended_at`: when the call ended, which then ends the period rather than the booked slot."""
    # A téléexpertise has no slot: its period starts when it was asked and ends when answered.
    start = datetime.fromisoformat((change.slot_start or change.created_at).replace("Z", "+00:00"))
    end = (datetime.fromisoformat(ended_at.replace("Z", "+00:00")) if ended_at
           else start + timedelta(minutes=change.slot_minutes) if change.slot_minutes else None)
    body: dict[str, Any] = {
        "resourceType": "Encounter", "identifier": [ids.identifier("dossier", change.id)],
        "status": STATUS.get(change.state, "unknown"),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "subject": _patient(ids, change.patient_id),
        "period": {"start": start.isoformat(), "end": max(start, end).isoformat() if end else None},
    }
    if change.reason:
        body["reasonCode"] = [{"text": change.reason}]
    participants = [{"type": [{"text": "professionnel de santé"}], "individual": who} for who in professionals]
    if change.specialist and not professionals:  # booked, not yet invited
        who = f"{change.specialist} ({change.specialty})" if change.specialty else change.specialist
        participants.append({"type": [{"text": "médecin requis"}], "individual": {"display": who}})
    body["participant"] = participants or None
    if change.slot_start:
        body["appointment"] = [{"type": "Appointment", "identifier": ids.identifier("appointment", change.id)}]
    return Encounter.model_validate(body)


def appointment(change: DossierChange, ids: CartIdentifiers, professionals: Sequence[dict[str, Any]] = (),
                cancel_reason: str | None = None) -> Appointment:
    """The booked slot: the resident and the professionals invited, all expected to take part."""
    start = datetime.fromisoformat(change.slot_start.replace("Z", "+00:00"))
    participants = [{"actor": _patient(ids, change.patient_id), "status": "accepted"}]
    participants += [{"actor": who, "status": "accepted"} for who in professionals]
    if change.specialist and not professionals:
        participants.append({"actor": {"display": change.specialist}, "status": "needs-action"})
    return Appointment.model_validate({
        "resourceType": "Appointment", "identifier": [ids.identifier("appointment", change.id)],
        "status": APPOINTMENT_STATUS.get(change.state, "booked"),
        "cancelationReason": {"text": cancel_reason} if change.state == "cancelled" and cancel_reason else None,
        "serviceType": [{"text": "Téléconsultation"}], "specialty": [{"text": change.specialty}] if change.specialty else None,
        "description": change.reason, "start": start.isoformat(),
        "end": (start + timedelta(minutes=change.slot_minutes)).isoformat(), "minutesDuration": change.slot_minutes,
        "created": change.created_at[:10], "participant": participants,
    })


def consent(change: ConsentChange, ids: CartIdentifiers) -> Consent:
    """The resident's consent to the teleconsultation (or its refusal), as collected on the cart."""
    return Consent.model_validate({
        "resourceType": "Consent", "identifier": [ids.identifier("consent", change.dossier_id)],
        "status": "active" if change.given else "rejected",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "treatment"}]},
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "59284-0", "display": "Consent Document"}],
                      "text": "Consentement à la téléconsultation"}],
        "patient": _patient(ids, change.patient_id),
        "dateTime": change.collected_at,
        "policyRule": {"text": "Consentement recueilli par l'équipe soignante avant la téléconsultation"},
        "sourceAttachment": {"title": change.comment} if change.comment else None,
    })
