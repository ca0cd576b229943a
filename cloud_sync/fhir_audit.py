"""The head of the cart's audit trail, reported to the regional server (FHIR AuditEvent): the
number of its last record and that record's chained hash. The trail is append-only and each hash
seals everything before it, so a cart whose history was rewritten (its disk replaced, records
removed) shows the server a different hash for a number it already reported: the region catches
it by comparing reports. The hash is keyed on the cart and says nothing of the records' content.

Written at an id made from the record's number (AuditEvent has no identifier to create it
conditionally): a resend writes the same one.
"""

from __future__ import annotations

import uuid

from fhir.resources.R4B.auditevent import AuditEvent

from cloud_sync.identifiers import CartIdentifiers

DCM = "http://dicom.nema.org/resources/ontology/DCM"


def audit_head(ids: CartIdentifiers, seq: int, at: str, digest: str) -> AuditEvent:
    identifier = ids.identifier("audit-head", str(seq))
    return AuditEvent.model_validate({
        "resourceType": "AuditEvent", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{identifier['system']}|{identifier['value']}")),
        "type": {"system": DCM, "code": "110100", "display": "Application Activity"},
        "action": "R", "recorded": at, "outcome": "0",
        "outcomeDesc": f"Journal d'audit du chariot : enregistrement n° {seq}",
        "agent": [{"who": ids.cart(), "requestor": False}],
        "source": {"observer": ids.cart(), "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}]},
        "entity": [{"what": {"identifier": identifier}, "name": "audit-head",
                    "detail": [{"type": "seq", "valueString": str(seq)}, {"type": "hash", "valueString": digest}]}],
    })
