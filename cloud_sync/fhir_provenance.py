"""Who wrote what (FHIR Provenance): each change the cart sends comes with a Provenance naming the
resources it wrote, when the change was made on the cart, and the cart as its author; a signed
report names its signer as the legal attester. Which member of staff typed a change stays on the
cart, in its audit trail.

R4's Provenance has no identifier, so it cannot be created conditionally: it is written to an id
of the cart's choosing, made from the outbox entry (`PUT Provenance/<id>`), and a resend finds it
there rather than making a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.provenance import Provenance

from cloud_sync.identifiers import CartIdentifiers

DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def provenance_id(ids: CartIdentifiers, entry_id: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ids.system('provenance')}|{entry_id}"))


def provenance(ids: CartIdentifiers, entry_id: int, targets: Sequence[str], at: str, updated: bool,
               signer: str | None = None) -> Provenance:
    """`targets`: references to what the change wrote (urn:uuid of the same transaction, or
    `Type/id` where the server keeps it)."""
    agents: list[dict[str, Any]] = [{"type": {"coding": [{"system": AGENT_TYPE, "code": "author"}]}, "who": ids.cart()}]
    if signer:
        agents.append({"type": {"coding": [{"system": AGENT_TYPE, "code": "attester"}]}, "who": {"display": signer}})
    return Provenance.model_validate({
        "resourceType": "Provenance", "id": provenance_id(ids, entry_id),
        "target": [{"reference": t} for t in targets], "recorded": at, "occurredDateTime": at,
        "activity": {"coding": [{"system": DATA_OPERATION, "code": "UPDATE" if updated else "CREATE"}]},
        "agent": agents,
    })
