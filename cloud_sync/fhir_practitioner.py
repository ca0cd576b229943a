"""A health professional taking part in a teleconsultation (the consulted specialist, another
professional) as a FR Core Practitioner: their RPPS number in the `rpps` slice when the cart knows
it, their name and specialty. Relatives and guests are not health professionals: they stay on the
cart.

The cart creates a Practitioner only when none exists with the same identifier (the RPPS first, so
the region's own directory entry is found and never duplicated) and never updates it: the region's
directory, not a cart, is authoritative for a professional.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from agent.store.changes import ParticipantChange
from cloud_sync.identifiers import CartIdentifiers

RPPS = "https://rpps.esante.gouv.fr"  # FR Core Practitioner, slice `rpps` (11 digits)
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
PROFESSIONAL_ROLES = frozenset({"specialist", "professional"})


def rpps_identifier(rpps: str) -> dict[str, Any]:
    return {"system": RPPS, "value": rpps, "type": {"coding": [{"system": FR_V2_0203, "code": "RPPS"}]}}


def participant_reference(change: ParticipantChange, participant_id: str, ids: CartIdentifiers) -> dict[str, Any]:
    """How an Encounter names them: by identifier (a logical reference, valid before the
    Practitioner reached the server), with their name for a reader."""
    identifier = rpps_identifier(change.rpps) if change.rpps else ids.identifier("practitioner", participant_id)
    name = " ".join(x for x in (change.first_name, change.name) if x)
    return {"type": "Practitioner", "identifier": identifier, "display": f"{name} ({change.specialty})" if change.specialty else name}


def practitioner(change: ParticipantChange, participant_id: str, ids: CartIdentifiers) -> Practitioner:
    identifiers = [rpps_identifier(change.rpps)] if change.rpps else []
    identifiers.append(ids.identifier("practitioner", participant_id))
    body: dict[str, Any] = {
        "resourceType": "Practitioner", "identifier": identifiers,
        "name": [{"use": "usual", "family": change.name, "given": [change.first_name] if change.first_name else None}],
    }
    if change.specialty:
        body["qualification"] = [{"code": {"text": change.specialty}}]
    return Practitioner.model_validate(body)
