"""The teleconsultation form (fiche de téléconsultation, seed 000 §2.3.2, seed 001 §4): the
requesting side's reason, history, observations and vitals; the expert's opinion; the signature
that closes the dossier and makes the signed parts read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.access.roles import Role
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.dossiers import fiche_draft
from agent.dossiers.dossier import DossierRefused, DossierState, open_dossier, transition
from agent.store import outbox
from agent.store.changes import FicheChange, Operation, SignatureChange, VitalChange

NURSE_PART = ("reason", "history", "observations")
# Who writes and signs the expert's part: the specialist through their link, or a doctor on the cart.
EXPERT_ROLES = frozenset({Role.DOCTOR.value, "specialist"})
EXPERT_PART = ("expert_opinion",)


@dataclass(frozen=True)
class VitalKind:
    label: str
    unit: str  # as the nurse reads it
    pattern: str  # what a typed value must look like
    low: float  # plausible range of the number(s): a typo is refused, not a fever
    high: float
    loinc: str  # what the regional server and a FHIR Observation call it
    ucum: str  # `unit` in UCUM


VITALS: dict[str, VitalKind] = {
    "spo2": VitalKind("Saturation en oxygène (SpO2)", "%", r"\d{2,3}", 50, 100, "59408-5", "%"),
    "pulse": VitalKind("Fréquence cardiaque", "/min", r"\d{2,3}", 20, 250, "8867-4", "/min"),
    "blood_pressure": VitalKind("Pression artérielle", "mmHg", r"\d{2,3}/\d{2,3}", 30, 260, "85354-9", "mm[Hg]"),
    "temperature": VitalKind("Température", "°C", r"\d{2}([.,]\d)?", 30, 44, "8310-5", "Cel"),
    "respiratory_rate": VitalKind("Fréquence respiratoire", "/min", r"\d{1,2}", 4, 60, "9279-1", "/min"),
    "weight": VitalKind("Poids", "kg", r"\d{1,3}([.,]\d{1,2})?", 10, 300, "29463-7", "kg"),
    "glucose": VitalKind("Glycémie capillaire", "g/L", r"\d([.,]\d{1,2})?", 0.2, 6, "2339-0", "g/L"),
    "pain": VitalKind("Douleur (EVA)", "/10", r"\d{1,2}", 0, 10, "72514-3", "{score}"),
}
SENSOR = "capteur"  # a vital's source when a sensor measured it; typed ones are "saisie"


def plausible(kind: str, value: str) -> str | None:
    """The value as stored (decimal point), or None when it cannot be this kind's reading."""
    import re

    spec = VITALS[kind]
    value = value.strip().replace(" ", "")
    if not re.fullmatch(spec.pattern, value):
        return None
    numbers = [float(part.replace(",", ".")) for part in value.split("/")]
    if not all(spec.low <= n <= spec.high for n in numbers):
        return None
    if kind == "blood_pressure" and numbers[0] <= numbers[1]:
        return None  # systolic above diastolic
    return value.replace(",", ".")


def update(db: Database, dossier_id: str, changes: dict[str, str | None], actor: Actor) -> None:
    row = open_dossier(db, dossier_id)
    if any(k in EXPERT_PART for k in changes) and actor.role not in EXPERT_ROLES:
        raise DossierRefused("expert_part_only")
    db["dossiers"].update(dossier_id, {**changes, "updated_at": utc_now_iso()})
    fiche_draft.drop(db, dossier_id, actor.login)  # saved: the draft has served
    audit.append(db, actor.event("fiche.update", row["patient_id"], detail=f"télédossier n° {dossier_id[:8]} : {', '.join(sorted(changes))}"))
    outbox.record(db, dossier_id, Operation.UPDATE, FicheChange(**changes))


def add_vital(db: Database, dossier_id: str, kind: str, value: str, measured_at: str, actor: Actor, source: str = "saisie",
              device: str | None = None, warnings: str | None = None) -> int:
    """A vital into the fiche: typed (`saisie`), or measured by a sensor (`capteur`, with its device
    and what it said of the measurement)."""
    row = open_dossier(db, dossier_id)
    spec = VITALS[kind]
    vital = {"dossier_id": dossier_id, "kind": kind, "value": value, "unit": spec.unit, "measured_at": measured_at,
             "source": source, "recorded_by": actor.login, "device": device, "loinc": spec.loinc, "ucum": spec.ucum,
             "warnings": warnings}
    vital_id = int(db["vitals"].insert(vital).last_pk)
    by = f" ({device})" if device else " (saisie)"
    audit.append(db, actor.event("vital.add", row["patient_id"], detail=f"{spec.label} {value} {spec.unit}{by}"))
    outbox.record(db, str(vital_id), Operation.CREATE, VitalChange(
        dossier_id=dossier_id, kind_of_vital=kind, value=value, unit=vital["unit"], measured_at=measured_at, source=source,
        device=device, loinc=spec.loinc, ucum=spec.ucum))
    return vital_id


@dataclass(frozen=True)
class Measured:
    """A vital a sensor measured, as it goes into the fiche."""

    kind: str
    value: str
    measured_at: str
    device: str
    warnings: str | None = None  # what the device said of it, in French


def add_measured(db: Database, dossier_id: str, measured: list[Measured], actor: Actor) -> None:
    """A check-up's set recorded in one step: all of it, or none (one transaction)."""
    for m in measured:
        add_vital(db, dossier_id, m.kind, m.value, m.measured_at, actor, SENSOR, m.device, m.warnings)


def vitals_of(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    return [{**r, "label": VITALS[r["kind"]].label} for r in
            db.query("SELECT id, kind, value, unit, measured_at, source, recorded_by, device, loinc, ucum, warnings "
                     "FROM vitals WHERE dossier_id = ? ORDER BY measured_at", [dossier_id])]


def sign(db: Database, dossier_id: str, actor: Actor, signer_name: str) -> None:
    """The expert signs: the dossier closes and its fiche can no longer change."""
    row = open_dossier(db, dossier_id)
    if actor.role not in EXPERT_ROLES:
        raise DossierRefused("expert_part_only")
    if not (row["expert_opinion"] or "").strip():
        raise DossierRefused("opinion_missing")
    signed_at = utc_now_iso()
    db["dossiers"].update(dossier_id, {"signed_by": signer_name, "signed_at": signed_at})
    outbox.record(db, dossier_id, Operation.CREATE, SignatureChange(dossier_id=dossier_id, signed_by=signer_name, signed_at=signed_at))
    audit.append(db, actor.event("fiche.sign", row["patient_id"], detail=f"télédossier n° {dossier_id[:8]}"))
    transition(db, dossier_id, DossierState.CLOSED, actor, by="signature")
