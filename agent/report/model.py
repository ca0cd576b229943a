"""The report's data model: what the caller (`agent.report.export`, from the database) hands to
`agent.report.pdf.render`, already formatted in French. Frozen, keyword-only dataclasses with no
reportlab in sight, so the code that fills them need not know how the PDF is laid out, and the
layout can read them without importing the renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.report.text import clean


@dataclass(frozen=True, kw_only=True)
class ReportPatient:
    display_name: str  # as the kiosk shows it, e.g. "DUPONT Marie"
    birth_name: str
    used_name: str | None
    first_names: Sequence[str]  # birth first names, in order
    birth_date: str  # "JJ/MM/AAAA"
    sex: str  # "Féminin", "Masculin" or "Indéterminé"
    ins: str | None = None  # only for a qualified identity; 15 characters are printed grouped


@dataclass(frozen=True, kw_only=True)
class ReportVital:
    label: str  # "Saturation en oxygène (SpO2)"
    value: str  # "96"
    unit: str  # "%", may be empty
    measured_at: str  # formatted, "25/11/2026 à 14:02"
    source: str = "saisie"  # typed; or the sensor that measured it, "Oxymètre (Contec CMS50D+)"
    warnings: str = ""  # what the device said of the measurement ("pouls irrégulier")


@dataclass(frozen=True, kw_only=True)
class ReportDocument:
    name: str
    kind: str  # label: "Ordonnance", "Photo", "Compte rendu"…
    added_by: str
    added_at: str  # formatted


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything the report prints, already formatted in French. Keyword-only: many fields are
    plain strings, and a requester swapped with a specialist must not go unnoticed."""

    establishment: str  # the EHPAD / cart
    dossier_number: str
    generated_at: str  # "25/11/2026 à 14:05"
    patient: ReportPatient
    slot: str
    requester: str  # nurse's name and role
    specialist: str  # name, specialty, RPPS if any
    accompaniment: str  # a French sentence
    consent: str  # given or refused (with its justification), by whom, when
    reason: str
    history: str
    observations: str
    vitals: Sequence[ReportVital]
    expert_opinion: str
    signed_by: str | None
    signed_at: str | None
    documents: Sequence[ReportDocument]

    @property
    def signed(self) -> bool:
        return bool(clean(self.signed_by).strip() and clean(self.signed_at).strip())
