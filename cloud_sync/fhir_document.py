"""A document of the dossier (a photo, a prescription, a PDF result, the signed report) as a FHIR
DocumentReference holding its bytes: type, title, size and SHA-1 hash (the hash FHIR's Attachment
defines), the resident and the consultation, when it was added, and by whom it was signed.

The bytes travel inside the DocumentReference (`attachment.data`) rather than in a Binary: R4's
Binary has no identifier, so it could not be created conditionally, and a resend would store the
file twice. Base64 costs a third more on the wire (bench/ keeps the ratio in view). A large
document, when the region has a resumable upload endpoint, is uploaded first
(resumable_upload.py) and the attachment points at it (`attachment.url`), with the same size
and hash.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from fhir.resources.R4B.documentreference import DocumentReference

from agent.dossiers.documents import KINDS
from agent.store.changes import DocumentChange
from cloud_sync.identifiers import CartIdentifiers


def document_reference(change: DocumentChange, content: bytes, patient_id: str, ids: CartIdentifiers,
                       signed_copy: bool = False, uploaded_to: str | None = None) -> DocumentReference:
    """`content`: the document's bytes as stored on the cart (its SHA-256 is `change.blob`).
    `uploaded_to`: where the upload server holds them (then not inline). `signed_copy`: the copy stamped with the expert's signature, a document of its own that
    replaces the first (which the cart never updates: created once, like every document)."""
    if hashlib.sha256(content).hexdigest() != change.blob:
        raise ValueError(f"document {change.id}: the bytes are not the ones recorded (blob {change.blob[:12]}…)")
    where = {"url": uploaded_to} if uploaded_to else {"data": base64.b64encode(content).decode("ascii")}
    attachment: dict[str, Any] = {"contentType": change.mime, **where, "size": len(content),
                                  "hash": base64.b64encode(hashlib.sha1(content).digest()).decode("ascii"),  # noqa: S324 (FHIR's choice)
                                  "title": change.name, "creation": change.added_at}
    body: dict[str, Any] = {
        "resourceType": "DocumentReference", "status": "current",
        "identifier": [ids.identifier("document", f"{change.id}.signed" if signed_copy else change.id)],
        "type": {"text": KINDS.get(change.kind_of_document, change.kind_of_document)},
        "subject": {"reference": f"Patient?{ids.search('patient', patient_id)}"},
        "date": change.added_at, "description": change.name,
        "content": [{"attachment": attachment}],
        "context": {"encounter": [{"reference": f"Encounter?{ids.search('dossier', change.dossier_id)}"}]},
    }
    if change.signed_by:
        body["authenticator"] = {"display": change.signed_by}
    if signed_copy:  # by identifier: valid whether or not the server has the first one yet
        body["relatesTo"] = [{"code": "replaces", "target": {"type": "DocumentReference", "identifier": ids.identifier("document", change.id)}}]
    return DocumentReference.model_validate(body)
