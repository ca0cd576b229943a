"""A prescription (ordonnance) written on the specialist's page, as the PDF the pharmacy reads.

`render(PrescriptionData) -> bytes`, pure like the report's renderer (agent/report/pdf.py), with
its page furniture (agent/report/layout.py) and text handling (agent/report/text.py). What a
French prescription carries, and so what this one prints:

- the prescriber: name, specialty, RPPS number (the 11 digits the pharmacist checks), how to reach
  them; "Téléconsultation" and the establishment where the patient was seen;
- the date of the prescription (and the place: the establishment);
- the patient: name(s), first names, sex, date of birth, the INS when the identity is qualified,
  and the last weight measured when the dossier has one (doses for the elderly depend on it);
- each medicine with its dosage (posologie) and duration, numbered; free text below;
- the prescriber's signature (their image, applied by them), and "signée électroniquement le …".

Metadata hold no patient name, as for the report. Every page repeats the patient, the dossier number
and "page X/Y" (a long prescription takes two pages; the pharmacist must know they belong together).

reportlab and the layout are imported when a prescription is drawn, not with this module, whose
dataclasses the agent's start imports (agent/report/pdf.py says why).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from agent.report.text import free_text, inline, one_line

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable

TITLE = "Ordonnance"


@dataclass(frozen=True, kw_only=True)
class Medicine:
    name: str  # "Amoxicilline 500 mg, gélule"
    dosage: str  # "1 gélule matin, midi et soir"
    duration: str  # "7 jours"


@dataclass(frozen=True, kw_only=True)
class PrescriptionData:
    """Everything the prescription prints, already formatted in French (keyword-only, as the report's)."""

    prescriber: str  # "Dr Claire PETIT"
    specialty: str
    rpps: str
    contact: str  # the prescriber's e-mail, as invited
    establishment: str
    dossier_number: str
    written_at: str  # "06/12/2026 à 14:05"
    patient_name: str  # "DUPONT Marie (née MARTIN)"
    patient_details: Sequence[tuple[str, str]]  # ("Née le", "04/05/1931"), ("Sexe", "Féminin"), ("INS (NIR)", "…"), ("Poids", "…")
    medicines: Sequence[Medicine]
    notes: str
    signature_png: bytes  # the prescriber's own signature image (agent/dossiers/intake/stamp.prepare_signature)


def render(data: PrescriptionData) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    from agent.report.layout import BOTTOM_MARGIN, MARGIN_X, DeferredPagesCanvas

    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=34 * mm, bottomMargin=BOTTOM_MARGIN,
                          title=TITLE, author=one_line(data.prescriber), subject=f"Télédossier n° {one_line(data.dossier_number)}",
                          creator="Telecart", lang="fr-FR", displayDocTitle=True)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="text", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def canvasmaker(*args: Any, **kwargs: Any) -> Canvas:
        return DeferredPagesCanvas(*args, decorate=lambda canvas, number, total: _furniture(canvas, data, number, total), created=None, **kwargs)

    doc.build(_story(data), canvasmaker=canvasmaker)
    return buffer.getvalue()


def _furniture(canvas: Canvas, data: PrescriptionData, number: int, total: int) -> None:
    """The prescriber at the top of every page, the patient and the page count at the bottom."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    from agent.report.layout import MARGIN_X

    page_width, page_height = A4
    canvas.saveState()
    top, left, right = page_height - 14 * mm, MARGIN_X, page_width - MARGIN_X
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, top, one_line(data.prescriber)[:90])
    canvas.setFont("Helvetica", 9.5)
    lines = [data.specialty, f"RPPS {data.rpps}" if data.rpps.strip() else "RPPS non renseigné", data.contact]
    for n, line in enumerate(one_line(x) for x in lines if x.strip()):
        canvas.drawString(left, top - 5 * mm - n * 4.2 * mm, line[:100])
    canvas.drawRightString(right, top, f"{one_line(data.establishment)[:60]}, le {one_line(data.written_at)}")
    canvas.drawRightString(right, top - 5 * mm, "Téléconsultation")
    canvas.setStrokeColorRGB(0.6, 0.6, 0.6)
    canvas.setLineWidth(0.6)
    canvas.line(left, top - 18 * mm, right, top - 18 * mm)
    canvas.line(left, 16 * mm, right, 16 * mm)
    canvas.setFont("Helvetica", 8.5)
    canvas.drawString(left, 11 * mm, f"Patient : {one_line(data.patient_name)[:80]}")
    canvas.drawRightString(right, 11 * mm, f"Télédossier n° {one_line(data.dossier_number)} — page {number}/{total}")
    canvas.restoreState()


def _story(data: PrescriptionData) -> list[Flowable]:
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer

    from agent.report.layout import BODY, SUBTITLE, TITLE_STYLE, fields

    signed = ParagraphStyle("prescription-signed", parent=BODY, alignment=TA_RIGHT)
    story: list[Flowable] = [Paragraph(escape(TITLE.upper()), TITLE_STYLE), Spacer(1, 2 * mm),
                             Paragraph(f"<b>{inline(data.patient_name)}</b>", SUBTITLE),
                             fields([(inline(k), inline(v)) for k, v in data.patient_details]), Spacer(1, 6 * mm)]
    for n, medicine in enumerate(data.medicines, start=1):
        lines = [f"<b>{n}. {inline(medicine.name)}</b>"]
        if medicine.dosage.strip():
            lines.append(inline(medicine.dosage))
        if medicine.duration.strip():
            lines.append(f"Durée : {inline(medicine.duration)}")
        story.append(KeepTogether([Paragraph("<br/>".join(lines), BODY), Spacer(1, 4 * mm)]))
    if data.notes.strip():
        story += [Spacer(1, 2 * mm), *free_text(data.notes, BODY)]
    signature = ImageReader(io.BytesIO(data.signature_png))
    width, height = signature.getSize()
    scale = min(60 * mm / width, 25 * mm / height, 1.0)
    image = Image(io.BytesIO(data.signature_png), width=width * scale, height=height * scale, hAlign="RIGHT")
    story.append(KeepTogether([Spacer(1, 8 * mm), image,
                               Paragraph(f"Signée électroniquement par {inline(data.prescriber)} le {inline(data.written_at)}",
                                         signed)]))
    return story
