"""The specialist's own documents: the signature image they apply, and the prescription they
write on their page (seed 001 §3–4, issue 15).

A specialist has no account on the cart: their signature image is kept under who the invitations
say they are (their RPPS number, else their e-mail), so their next link to this cart finds it.
A prescription is made into a read-only PDF (agent/report/prescription.py), signed with that
image, dated, added to the dossier as an "ordonnance" and sent to the regional server like any
document; the kiosk hears of it through agent/dossiers/news.py.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from agent.clock import french_date, local_stamp, parse_iso
from agent.dossiers import fiche
from agent.dossiers.dossier import open_dossier
from agent.identity.patients import QUALIFIED
from agent.links.invitation import Settings
from agent.report.prescription import Medicine, PrescriptionData

SEXES = {"F": "Féminin", "M": "Masculin", "I": "Indéterminé"}
BORN = {"F": "Née le", "M": "Né le", "I": "Né(e) le"}


def specialist_of(db: Database, invitation_id: str) -> dict[str, Any]:
    """Who the invitation was sent to: name, first name, specialty, RPPS, e-mail."""
    row = db.execute("SELECT p.* FROM invitations i JOIN participants p ON p.id = i.participant_id WHERE i.id = ?", [invitation_id]).fetchone()
    if row is None:
        raise LookupError("no such invitation")
    columns = [c[0] for c in db.execute("SELECT * FROM participants LIMIT 0").description]
    return dict(zip(columns, row, strict=True))


def signature_key(specialist: dict[str, Any]) -> str:
    """Where their signature image is kept (staff_signatures.login): the same doctor, whatever link."""
    if (specialist.get("rpps") or "").strip():
        return f"specialist:rpps:{specialist['rpps'].strip()}"
    if (specialist.get("email") or "").strip():
        return f"specialist:email:{specialist['email'].strip().lower()}"
    return f"specialist:participant:{specialist['id']}"


def prescriber_name(specialist: dict[str, Any]) -> str:
    names = " ".join(x for x in ((specialist.get("first_name") or "").strip(), (specialist.get("name") or "").strip().upper()) if x)
    return f"Dr {names}" if names else "Médecin requis"


def prescription_data(db: Database, dossier_id: str, settings: Settings, specialist: dict[str, Any], medicines: list[Medicine], notes: str,
                      signature_png: bytes, now: datetime | None = None) -> PrescriptionData:
    """What the PDF prints, from the dossier as it is now; refused (DossierRefused) on a dossier
    that is signed or cancelled, as any addition is."""
    dossier = open_dossier(db, dossier_id)
    p = db["patients"].get(dossier["patient_id"])
    first_names = " ".join(json.loads(p["first_names"]))
    used = f" (née {p['birth_name']})" if p["used_name"] and p["sex"] == "F" else ""
    name = f"{(p['used_name'] or p['birth_name']).upper()} {first_names}{used}"
    details = [(BORN[p["sex"]], french_date(p["birth_date"])), ("Sexe", SEXES[p["sex"]])]
    if p["identity_status"] == QUALIFIED and p["ins"]:
        details.append(("INS (NIR)", p["ins"]))
    weights = [v for v in fiche.vitals_of(db, dossier_id) if v["kind"] == "weight"]
    if weights:
        last = weights[-1]
        measured = local_stamp(settings.zone, parse_iso(last["measured_at"]), "%d/%m/%Y")
        details.append(("Poids", f"{last['value'].replace('.', ',')} {last['unit']} (le {measured})"))
    written = local_stamp(settings.zone, now)
    return PrescriptionData(prescriber=prescriber_name(specialist), specialty=specialist.get("specialty") or "", rpps=specialist.get("rpps") or "",
                            contact=specialist.get("email") or "", establishment=settings.establishment, dossier_number=dossier_id[:8],
                            written_at=written, patient_name=name, patient_details=details, medicines=medicines, notes=notes,
                            signature_png=signature_png)
