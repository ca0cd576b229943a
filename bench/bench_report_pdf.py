"""The teleconsultation report PDF (`agent.report.pdf.render`): a typical report (2 pages) and a
long one (10 pages, a long medical history), p50 and p95 over repeated renders, against the raw
cost floor measured in the same run: reportlab's canvas writing the same text, already cut into
lines, with drawString (no platypus layout, no escaping, no tables, no page count pass).
"""

from __future__ import annotations

import io
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from agent.report.model import ReportData, ReportDocument, ReportPatient, ReportVital
from agent.report.pdf import render
from bench._common import figure, percentile

TYPICAL_RUNS = 200
LONG_RUNS = 40
BLOCKS = 10  # report and baseline alternate in blocks, so noise hits both alike
LONG_EPISODES = 170  # paragraphs of history that make the long report 10 pages


def _report(episodes: int) -> ReportData:
    history = "\n\n".join(
        f"{i}. Hospitalisation pour insuffisance cardiaque décompensée ({1990 + i % 30}), {i % 9 + 2} jours au CH ; "
        f"furosémide adapté, œdèmes des membres inférieurs régressifs, « suivi » par le cardiologue traitant."
        for i in range(1, episodes + 1)
    ) or "HTA traitée.\nDiabète de type 2 (HbA1c 7,8 % en octobre).\n\nAllergie : pénicilline."
    return ReportData(
        establishment="EHPAD Les Tilleuls — chariot n° 2", dossier_number="TD-2026-000123",
        generated_at="25/11/2026 à 14:05",
        patient=ReportPatient(display_name="DUPONT Marie", birth_name="DUPONT", used_name="MARTIN",
                              first_names=["Marie", "Françoise"], birth_date="02/03/1935", sex="Féminin",
                              ins="235037511223344"),
        slot="Mardi 25 novembre 2026, 14:00 – 14:30", requester="Claire LEROY, infirmière diplômée d'État",
        specialist="Dr Jean DURAND, dermatologue — RPPS 10001234567",
        accompaniment="Patiente accompagnée par l'infirmière et par sa fille, Mme Sophie MARTIN.",
        consent="Consentement recueilli oralement auprès de la patiente par Claire LEROY le 24/11/2026 à 10:12.",
        reason="Plaie du talon gauche ne cicatrisant pas depuis 3 semaines.", history=history,
        observations="Escarre stade 2 du talon gauche, 2 × 3 cm, fond fibrineux à 70 %, pas de signe d'infection "
                     "locale. Douleur EVA 4/10 au pansement.",
        vitals=[ReportVital(label="Saturation en oxygène (SpO2)", value="96", unit="%", measured_at="25/11/2026 à 13:58"),
                ReportVital(label="Pression artérielle", value="142/81", unit="mmHg", measured_at="25/11/2026 à 13:59"),
                ReportVital(label="Fréquence cardiaque", value="78", unit="bpm", measured_at="25/11/2026 à 13:58"),
                ReportVital(label="Température", value="37,2", unit="°C", measured_at="25/11/2026 à 13:55")],
        expert_opinion="Détersion mécanique douce, hydrogel puis pansement hydrocellulaire tous les 2 jours.\n"
                       "Décharge du talon.\n\nRevoir en téléconsultation dans 15 jours avec photos.",
        signed_by="Dr Jean DURAND", signed_at="25/11/2026 à 14:31",
        documents=[ReportDocument(name="photo_talon_gauche.jpg", kind="Photo", added_by="Claire LEROY (IDE)",
                                  added_at="25/11/2026 à 14:03"),
                   ReportDocument(name="ordonnance_pansements.pdf", kind="Ordonnance", added_by="Dr Jean DURAND",
                                  added_at="25/11/2026 à 14:25")],
    )


def _lines(data: ReportData) -> list[str]:
    """Every string the report prints, cut into lines of the report's width (done once, untimed)."""
    p = data.patient
    fields = [data.establishment, data.dossier_number, data.generated_at, p.display_name, p.birth_name,
              p.used_name or "", " ".join(p.first_names), p.birth_date, p.sex, p.ins or "", data.slot, data.requester,
              data.specialist, data.accompaniment, data.consent, data.reason, data.history, data.observations,
              data.expert_opinion, data.signed_by or "", data.signed_at or ""]
    fields += [f"{v.label} {v.value} {v.unit} {v.measured_at}" for v in data.vitals]
    fields += [f"{d.name} {d.kind} {d.added_by} {d.added_at}" for d in data.documents]
    return [line for field in fields for paragraph in field.split("\n") for line in textwrap.wrap(paragraph, 95)]


def _floor(lines: list[str]) -> bytes:
    """The raw cost of putting that text into a PDF: drawString, 60 lines a page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setFont("Helvetica", 10)
    for i, line in enumerate(lines):
        if i and i % 60 == 0:
            canvas.showPage()
            canvas.setFont("Helvetica", 10)
        canvas.drawString(51, 780 - (i % 60) * 12.5, line)
    canvas.save()
    return buffer.getvalue()


def _timed(fn: Callable[[], Any], runs: int, out: list[float]) -> None:
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)


def _compare(report: Callable[[], Any], floor: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    base: list[float] = []
    _timed(report, 3, [])
    _timed(floor, 3, [])
    per_block = max(1, runs // BLOCKS)
    for block in range(BLOCKS):
        pair = [(report, ours), (floor, base)]
        for fn, out in pair if block % 2 == 0 else reversed(pair):
            _timed(fn, per_block, out)
    return ours, base


def _pages(pdf: bytes) -> int:
    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def figures() -> Iterator[dict[str, Any]]:
    for kind, data, runs in (("typical", _report(0), TYPICAL_RUNS), ("long", _report(LONG_EPISODES), LONG_RUNS)):
        lines = _lines(data)
        yield figure(f"report_pdf.{kind}.pages", _pages(render(data)), "pages")  # what the times below are for
        ours, base = _compare(lambda d=data: render(d), lambda lines=lines: _floor(lines), runs)
        for p in (50, 95):
            yield figure(f"report_pdf.{kind}.p{p}_ms", percentile(ours, p), "ms", baseline=percentile(base, p))


def run() -> list[dict[str, Any]]:
    return list(figures())
