"""Which FHIR resources an outbox entry becomes, and how each is written: created once
(`POST` conditional on its identifier: a vital, a document, a consent) or kept up to date (`PUT`
conditional on its identifier: the resident and the dossier's encounter, sent whole each time from
the cart's current rows, so a late state change never sends a stale copy).

Kinds the regional server does not receive yet (invitations, participants, the fiche's text, the
end of the consultation, shares) raise `NotSent`: the entry stays on the cart, counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir.resources.R4B.resource import Resource
from sqlite_utils import Database

from agent.store.blobs import BlobStore
from agent.store.changes import ConsentChange, DocumentChange, DossierChange, PatientChange, VitalChange
from cloud_sync.fhir_document import document_reference
from cloud_sync.fhir_encounter import consent, encounter
from cloud_sync.fhir_observation import observation
from cloud_sync.fhir_patient import patient
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.queue import Entry

CREATE, UPSERT = "create", "upsert"


class NotSent(Exception):
    """An entry of a kind the regional server does not receive (yet)."""


@dataclass(frozen=True)
class Write:
    resource: Resource
    how: str  # create | upsert


def _patient_of_dossier(db: Database, dossier_id: str) -> str:
    return db.execute("SELECT patient_id FROM dossiers WHERE id = ?", [dossier_id]).fetchone()[0]


def _current_patient(db: Database, patient_id: str) -> PatientChange:
    row = next(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
    return PatientChange(**{k: row[k] for k in PatientChange.model_fields})


def _current_dossier(db: Database, dossier_id: str) -> DossierChange:
    row = next(db.query("SELECT * FROM dossiers WHERE id = ?", [dossier_id]))
    return DossierChange(**{k: row[k] for k in DossierChange.model_fields})


def writes_for(db: Database, blobs: BlobStore, entry: Entry, ids: CartIdentifiers) -> list[Write]:
    match entry.entity:
        case "patient":
            return [Write(patient(_current_patient(db, entry.entity_id), ids), UPSERT)]
        case "dossier":
            return [Write(encounter(_current_dossier(db, entry.entity_id), ids), UPSERT)]
        case "consent":
            return [Write(consent(ConsentChange(**entry.payload), ids), CREATE)]
        case "vital":
            change = VitalChange(**entry.payload)
            return [Write(observation(entry.entity_id, change, _patient_of_dossier(db, change.dossier_id), ids), CREATE)]
        case "document" if entry.operation == "create":
            change = DocumentChange(**entry.payload)
            content = blobs.path_of(change.blob).read_bytes()
            return [Write(document_reference(change, content, _patient_of_dossier(db, change.dossier_id), ids), CREATE)]
    raise NotSent(f"{entry.entity} {entry.operation}")
