"""The dossier as its report PDF and as the export file for the practice software (seed 001 §4:
"télécharger post-acte l'ensemble des documents")."""

from __future__ import annotations

import io
import json
import re
import zipfile
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import french_date, local_stamp, parse_iso
from agent.dossiers import documents, fiche
from agent.dossiers.dossier import load
from agent.identity.patients import QUALIFIED
from agent.links.invitation import Settings
from agent.report.model import ReportData, ReportDocument, ReportPatient, ReportVital
from agent.report.pdf import render
from agent.store.blobs import BlobStore

SEXES = {"F": "Féminin", "M": "Masculin", "I": "Indéterminé"}
KINDS = {"alone": "Résident seul avec l'équipe soignante", "relative": "Résident accompagné d'un proche",
         "professional": "Résident accompagné d'un professionnel de santé"}


def _when(iso: str | None, zone: ZoneInfo) -> str:
    if not iso:
        return ""
    return local_stamp(zone, parse_iso(iso))


def _staff_name(db: Database, login: str | None) -> str:
    row = db.execute("SELECT display_name FROM users WHERE login = ?", [login]).fetchone()
    return row[0] if row else (login or "inconnu")


def report_data(db: Database, dossier_id: str, settings: Settings) -> ReportData | None:
    found = load(db, dossier_id, settings)
    if found is None:
        return None
    row = db["dossiers"].get(dossier_id)
    p = db["patients"].get(found.patient["id"])
    zone = settings.zone
    requester = db.execute("SELECT display_name, role FROM users WHERE login = ?", [found.created_by]).fetchone()
    s = found.specialist or {}
    companion = found.accompaniment["companion"]
    accompaniment = KINDS[found.accompaniment["kind"]]
    if companion:
        accompaniment += f" : {companion['name'].upper()} {companion['first_name'] or ''}".rstrip()
        accompaniment += ", à distance" if companion["remote"] else ", présent"
    c = found.consent
    collector = _staff_name(db, c["collected_by"])
    consent = (f"Recueilli par {collector} le {_when(c['collected_at'], zone)}" if c["given"]
               else f"Non recueilli ({collector}, {_when(c['collected_at'], zone)}) : {c['comment']}")
    slot = ""
    if found.slot:
        slot = f"{_when(found.slot['start'], zone)}, {found.slot['duration_minutes']} min"
    return ReportData(
        establishment=settings.establishment, dossier_number=dossier_id[:8],
        generated_at=local_stamp(zone),
        patient=ReportPatient(
            display_name=found.patient["display_name"], birth_name=p["birth_name"], used_name=p["used_name"],
            first_names=json.loads(p["first_names"]), birth_date=french_date(p["birth_date"]), sex=SEXES[p["sex"]],
            ins=p["ins"] if p["identity_status"] == QUALIFIED else None,
        ),
        slot=slot,
        requester=f"{requester[0]} ({found.created_by})" if requester else (found.created_by or ""),
        specialist=", ".join(x for x in (s.get("display_name") or s.get("name"), s.get("specialty"),
                                         f"RPPS {s['rpps']}" if s.get("rpps") else None) if x),
        accompaniment=accompaniment, consent=consent,
        reason=row["reason"] or "", history=row["history"] or "", observations=row["observations"] or "",
        # Stored with a decimal point (machines read it), printed with a comma (people read it).
        vitals=[ReportVital(label=v["label"], value=v["value"].replace(".", ","), unit=v["unit"], measured_at=_when(v["measured_at"], zone),
                            source=v["device"] or "saisie", warnings=v["warnings"] or "")
                for v in fiche.vitals_of(db, dossier_id)],
        expert_opinion=row["expert_opinion"] or "",
        signed_by=row["signed_by"], signed_at=_when(row["signed_at"], zone) or None,
        documents=[ReportDocument(name=d["name"], kind=d["kind_label"], added_by=d["added_by"], added_at=_when(d["added_at"], zone))
                   for d in documents.list_for(db, dossier_id)],
    )


def report_pdf(db: Database, dossier_id: str, settings: Settings, actor: Actor) -> tuple[bytes, str] | None:
    """The report and the patient it concerns; audited as a read of the dossier."""
    data = report_data(db, dossier_id, settings)
    if data is None:
        return None
    patient_id = db["dossiers"].get(dossier_id)["patient_id"]
    audit.append(db, actor.event("report.read", patient_id, detail=f"télédossier n° {dossier_id[:8]}"))
    return render(data), patient_id


def _safe(name: str) -> str:
    return re.sub(r"[^\w.() -]+", "_", name).strip() or "document"


def export_zip(db: Database, dossier_id: str, settings: Settings, actor: Actor, blobs: BlobStore) -> bytes | None:
    """Report and every document in one ZIP file named for the practice software's import."""
    made = report_pdf(db, dossier_id, settings, actor)
    if made is None:
        return None
    pdf, patient_id = made
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("compte-rendu.pdf", pdf)
        for n, doc in enumerate(db.query("SELECT * FROM documents WHERE dossier_id = ? ORDER BY added_at", [dossier_id]), start=1):
            extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[doc["mime"]]
            stem = _safe(doc["name"]).removesuffix(extension)
            archive.writestr(f"{n:02d} {stem}{extension}", blobs.get(doc["blob"]))  # numbered: names may repeat
    audit.append(db, actor.event("dossier.export", patient_id, detail=f"télédossier n° {dossier_id[:8]}"))
    return buffer.getvalue()
