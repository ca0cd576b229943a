"""Which FHIR resources an outbox entry becomes, and how each is written: created once (`POST`
conditional on its identifier: a vital, a document, a consent, a professional) or kept up to date
(`PUT` conditional on its identifier, or at an id made from it: the resident, the dossier's
encounter and its form, sent whole each time from the cart's current rows, so a late state change
never sends a stale copy).

| entry | resources |
|---|---|
| patient | Patient |
| dossier (created, its states) | Appointment, Encounter |
| consultation_end | Encounter |
| consent | Consent |
| participant (a health professional) | Practitioner, Appointment, Encounter |
| fiche, signature | Composition (the signed report once signed) |
| vital | Observation |
| document (added, signed) | DocumentReference (the signed copy replaces the first); a large one uploaded first (resumable_upload.py) |

What stays on the cart raises `NotSent` (state `local`): invitations and shares (messages to
people, with their addresses), relatives and guests taking part, a document's new name, the
rating and the amount of the consultation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.resource import Resource
from sqlite_utils import Database

from agent.dossiers.fiche import VITALS
from agent.store.blobs import BlobStore
from agent.store.changes import ConsentChange, DocumentChange, DossierChange, ParticipantChange, PatientChange, VitalChange
from cloud_sync.fhir_bundle import CREATE, PUT, UPSERT
from cloud_sync.fhir_composition import Fiche, composition
from cloud_sync.fhir_document import document_reference
from cloud_sync.fhir_encounter import appointment, consent, encounter
from cloud_sync.fhir_observation import observation
from cloud_sync.fhir_patient import patient
from cloud_sync.fhir_practitioner import PROFESSIONAL_ROLES, participant_reference, practitioner
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.queue import Entry, finished_upload
from cloud_sync.resumable_upload import UploadFirst


class NotSent(Exception):
    """An entry of a kind the regional server does not receive."""


@dataclass(frozen=True)
class Write:
    resource: Resource
    how: str  # fhir_bundle's CREATE | UPSERT | PUT


def _dossier(db: Database, dossier_id: str) -> dict[str, Any]:
    return next(db.query("SELECT * FROM dossiers WHERE id = ?", [dossier_id]))


def _current_patient(db: Database, patient_id: str) -> PatientChange:
    row = next(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
    return PatientChange(**{k: row[k] for k in PatientChange.model_fields})


def _professionals(db: Database, dossier_id: str, ids: CartIdentifiers) -> list[dict[str, Any]]:
    rows = db.query("SELECT p.* FROM participants p JOIN rooms r ON r.id = p.room_id WHERE r.dossier_id = ? ORDER BY p.id", [dossier_id])
    return [participant_reference(_participant(row), str(row["id"]), ids) for row in rows if row["role"] in PROFESSIONAL_ROLES]


def _participant(row: dict[str, Any]) -> ParticipantChange:
    return ParticipantChange(room_id=row["room_id"], dossier_id=None, remote=bool(row["remote"]),
                             **{k: row[k] for k in ("role", "name", "first_name", "specialty", "rpps")})


def _dossier_now(db: Database, dossier_id: str, ids: CartIdentifiers) -> tuple[dict[str, Any], DossierChange, list[dict[str, Any]]]:
    """The dossier's row, as a change, and the professionals taking part: read once per entry."""
    row = _dossier(db, dossier_id)
    return row, DossierChange(**{k: row[k] for k in DossierChange.model_fields}), _professionals(db, dossier_id, ids)


def _encounter(db: Database, dossier_id: str, ids: CartIdentifiers) -> Write:
    row, change, professionals = _dossier_now(db, dossier_id, ids)
    return Write(encounter(change, ids, professionals, row["ended_at"]), UPSERT)


def _booking(db: Database, dossier_id: str, ids: CartIdentifiers) -> list[Write]:
    """The slot (Appointment) and the consultation (Encounter), both from the current rows."""
    row, change, professionals = _dossier_now(db, dossier_id, ids)
    consultation = Write(encounter(change, ids, professionals, row["ended_at"]), UPSERT)
    if change.slot_start is None:  # a téléexpertise books no slot: no Appointment
        return [consultation]
    return [Write(appointment(change, ids, professionals, row["cancel_reason"]), UPSERT), consultation]


def _vital_line(row: dict[str, Any]) -> str:
    when = datetime.fromisoformat(row["measured_at"].replace("Z", "+00:00")).strftime("%d/%m/%Y %H:%M %Z").strip()
    how = f"mesuré par {row['device']}" if row["device"] else "saisi"
    return f"{VITALS[row['kind']].label} : {row['value']} {row['unit']} ({when}, {how})"


def _composition(db: Database, dossier_id: str, ids: CartIdentifiers) -> Write:
    row = _dossier(db, dossier_id)
    vitals = [_vital_line(v) for v in db.query("SELECT * FROM vitals WHERE dossier_id = ? ORDER BY measured_at, id", [dossier_id])]
    fiche = Fiche(dossier_id=dossier_id, patient_id=row["patient_id"], reason=row["reason"], history=row["history"],
                  observations=row["observations"], expert_opinion=row["expert_opinion"], vitals=vitals,
                  updated_at=row["updated_at"], signed_by=row["signed_by"], signed_at=row["signed_at"])
    return Write(composition(fiche, ids), PUT)


def writes_for(db: Database, blobs: BlobStore, entry: Entry, ids: CartIdentifiers, inline_max: int | None = None) -> list[Write]:
    """What the entry writes on the server. A document larger than `inline_max` bytes (None: any
    size inline) names its finished upload, and raises UploadFirst until there is one."""
    match entry.entity, entry.operation:
        case "patient", _:
            return [Write(patient(_current_patient(db, entry.entity_id), ids), UPSERT)]
        case "dossier", _:
            return _booking(db, entry.entity_id, ids)
        case "consultation_end", _:
            return [_encounter(db, entry.entity_id, ids)]
        case "consent", _:
            return [Write(consent(ConsentChange(**entry.payload), ids), CREATE)]
        case "participant", _ if entry.payload["role"] in PROFESSIONAL_ROLES:
            change = ParticipantChange(**entry.payload)
            writes = [Write(practitioner(change, entry.entity_id, ids), CREATE)]
            return writes + (_booking(db, change.dossier_id, ids) if change.dossier_id else [])
        case "fiche" | "signature", _:
            return [_composition(db, entry.entity_id, ids)]
        case "vital", _:
            change = VitalChange(**entry.payload)
            return [Write(observation(entry.entity_id, change, _dossier(db, change.dossier_id)["patient_id"], ids), CREATE)]
        case "document", "create" | "sign":
            change = DocumentChange(**entry.payload)
            path = blobs.path_of(change.blob)
            uploaded_to = None
            if inline_max is not None and (size := path.stat().st_size) > inline_max:
                if not (uploaded_to := finished_upload(db, entry.id)):
                    raise UploadFirst(entry.id, path, size, change.mime, change.name)
            patient_id = _dossier(db, change.dossier_id)["patient_id"]
            return [Write(document_reference(change, path.read_bytes(), patient_id, ids, entry.operation == "sign", uploaded_to), CREATE)]
    raise NotSent(f"{entry.entity} {entry.operation}")


def signer_of(entry: Entry) -> str | None:
    """Who attests what the entry wrote: the expert who signed the report or the document."""
    if entry.entity == "signature" or (entry.entity, entry.operation) == ("document", "sign"):
        return entry.payload.get("signed_by")
    return None
