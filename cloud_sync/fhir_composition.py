"""The teleconsultation form (fiche) as a FHIR Composition, LOINC 11488-4 "Consult note": the
requesting side's reason, history and observations, the vitals as the report prints them, and the
expert's opinion, one section each. It stays `preliminary` while the form changes and becomes
`final` once the expert signed it, the signer as its legal attester: this is the signed report the
region keeps (the PDF is only its rendering on the cart).

Each section carries its text as XHTML narrative (FHIR's only way to hold a section's prose),
escaped, one paragraph per line the nurse typed.

It is written at an id of the cart's choosing, made from its identifier (`PUT Composition/<id>`),
rather than found by identifier: searching Compositions by identifier is optional in FHIR and
some servers lack it (sekmet does), while writing to a client-chosen id is what every server does
(HAPI: its default `ALPHANUMERIC` client id strategy).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.composition import Composition

from cloud_sync.identifiers import CartIdentifiers

LOINC = "http://loinc.org"
CONSULT_NOTE = {"system": LOINC, "code": "11488-4", "display": "Consult note"}
# LOINC section codes of a consult note (the ones C-CDA and IPS use for these headings)
SECTIONS = (
    ("reason", "Motif de la téléconsultation", "29299-5"),
    ("history", "Histoire de la maladie, antécédents", "10164-2"),
    ("observations", "Observations de l'équipe soignante", "29545-1"),
    ("vitals", "Constantes", "8716-3"),
    ("expert_opinion", "Avis de l'expert", "51848-0"),
)


@dataclass(frozen=True)
class Fiche:
    dossier_id: str
    patient_id: str
    reason: str | None
    history: str | None
    observations: str | None
    expert_opinion: str | None
    vitals: Sequence[str]  # "Pression artérielle 135/85 mmHg (06/12/2026 10:02)", in order
    updated_at: str
    signed_by: str | None = None
    signed_at: str | None = None


def narrative(text: str) -> dict[str, str]:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</div>'}


def composition(fiche: Fiche, ids: CartIdentifiers) -> Composition:
    texts = {"reason": fiche.reason, "history": fiche.history, "observations": fiche.observations,
             "vitals": "\n".join(fiche.vitals), "expert_opinion": fiche.expert_opinion}
    sections = [{"title": title, "code": {"coding": [{"system": LOINC, "code": code}]}, "text": narrative(texts[key])}
                for key, title, code in SECTIONS if (texts[key] or "").strip()]
    identifier = ids.identifier("fiche", fiche.dossier_id)
    body: dict[str, Any] = {
        "resourceType": "Composition", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{identifier['system']}|{identifier['value']}")),
        "identifier": identifier,
        "status": "final" if fiche.signed_by else "preliminary",
        "type": {"coding": [CONSULT_NOTE], "text": "Compte rendu de téléconsultation"},
        "subject": {"reference": f"Patient?{ids.search('patient', fiche.patient_id)}"},
        "encounter": {"reference": f"Encounter?{ids.search('dossier', fiche.dossier_id)}"},
        "date": fiche.signed_at or fiche.updated_at,
        "author": [ids.cart()],
        "title": "Compte rendu de téléconsultation",
        "section": sections or None,
    }
    if fiche.signed_by:
        body["attester"] = [{"mode": "legal", "time": fiche.signed_at, "party": {"display": fiche.signed_by}}]
    return Composition.model_validate(body)
