"""A teleconsultation dossier as a FHIR Encounter: class VR (virtual), its state, its slot, the
reason, the consulted specialist by name and specialty, the resident by their cart identifier; and
the consent collected for it as a FHIR Consent (FR Core has profiles for both).

The dossier's states map onto Encounter.status: programmée → planned, en cours → in-progress,
awaiting its report and closed → finished (the call is over), cancelled → cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter

from agent.store.changes import ConsentChange, DossierChange
from cloud_sync.identifiers import CartIdentifiers

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STATUS = {"draft": "planned", "scheduled": "planned", "in_progress": "in-progress", "awaiting_report": "finished",
          "closed": "finished", "cancelled": "cancelled"}
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"


def _patient(ids: CartIdentifiers, patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient?{ids.search('patient', patient_id)}"}


def encounter(change: DossierChange, ids: CartIdentifiers, professionals: Sequence[dict[str, Any]] = (),
              ended_at: str | None = None) -> Encounter:
    """`professionals`: the health professionals who took part (fhir_practitioner.participant_reference);
    `ended_at`: when the call ended, which then ends the period rather than the booked slot."""
    start = datetime.fromisoformat(change.slot_start.replace("Z", "+00:00"))
    end = datetime.fromisoformat(ended_at.replace("Z", "+00:00")) if ended_at else start + timedelta(minutes=change.slot_minutes)
    body: dict[str, Any] = {
        "resourceType": "Encounter", "identifier": [ids.identifier("dossier", change.id)],
        "status": STATUS.get(change.state, "unknown"),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "subject": _patient(ids, change.patient_id),
        "period": {"start": start.isoformat(), "end": max(start, end).isoformat()},
    }
    if change.reason:
        body["reasonCode"] = [{"text": change.reason}]
    participants = [{"type": [{"text": "professionnel de santé"}], "individual": who} for who in professionals]
    if change.specialist and not professionals:  # booked, not yet invited
        who = f"{change.specialist} ({change.specialty})" if change.specialty else change.specialist
        participants.append({"type": [{"text": "médecin requis"}], "individual": {"display": who}})
    body["participant"] = participants or None
    return Encounter.model_validate(body)


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
