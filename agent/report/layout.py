"""How the report looks on paper: A4 geometry, the paragraph styles, the building blocks of the body
(section titles, label / value rows, grids, banners) and what every page carries (the header that
names the patient, the footer with "page X/Y", drawn once the page count is known). Black text and
grey rules only: the report is printed in black and white.

What the report says, and in which order, is in `agent.report.pdf`; this module only knows the
wording of the header and the footer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from agent.report.model import ReportData
from agent.report.text import NOT_GIVEN, clean, markup, shorten

TITLE = "Compte rendu de téléconsultation"
PROVISIONAL = "PROVISOIRE"

_PAGE_WIDTH, _PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
_TOP = 11 * mm  # from the top edge to the header's first line
BOTTOM_MARGIN = 20 * mm
_FOOTER_Y = 10 * mm
_CONTENT_WIDTH = _PAGE_WIDTH - 2 * MARGIN_X
_RULE = colors.Color(0.45, 0.45, 0.45)
_LIGHT_RULE = colors.Color(0.7, 0.7, 0.7)
_SHADE = colors.Color(0.9, 0.9, 0.9)
_KEEP_TOGETHER = 110 * mm  # tables shorter than this are not split from their title


def _style(name: str, size: float = 10, leading: float | None = None, font: str = "Helvetica", **kw: Any) -> ParagraphStyle:
    kw.setdefault("textColor", colors.black)
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.3, splitLongWords=1, **kw)


BODY = _style("body", 10, 13.5, spaceAfter=5)
_CELL = _style("cell", 9, 11.5)
_CELL_HEAD = _style("cell_head", 9, 11.5, font="Helvetica-Bold")
_LABEL = _style("label", 9, 12.5, textColor=colors.Color(0.2, 0.2, 0.2))
_VALUE = _style("value", 10, 12.5)
TITLE_STYLE = _style("title", 16, 20, font="Helvetica-Bold", spaceAfter=2)
SUBTITLE = _style("subtitle", 9.5, 12.5, spaceAfter=4)
_BANNER = _style("banner", 12, 15, font="Helvetica-Bold", alignment=1)
_BANNER_NOTE = _style("banner_note", 9, 11.5, alignment=1)
_HEADER_ESTABLISHMENT = _style("header_establishment", 10, 12, font="Helvetica-Bold")
_HEADER_SUBTITLE = _style("header_subtitle", 8.5, 10.5)
_HEADER_PATIENT = _style("header_patient", 9.5, 12)


# --- the body --------------------------------------------------------------------------------

class _Heading(Flowable):
    """A section title over a rule."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, 20

    def draw(self) -> None:
        self.canv.setFont("Helvetica-Bold", 12)
        self.canv.drawString(0, 6, self.text)
        self.canv.setStrokeColor(colors.black)
        self.canv.setLineWidth(0.8)
        self.canv.line(0, 2, self.width, 2)


def section(title: str, *content: Flowable) -> list[Flowable]:
    """A titled section. Room for the title and a few lines, or a new page: no title alone at the
    foot of a page. A short table stays on one page with its title; free text and long tables flow
    on from where they start (rather than leave half a page blank)."""
    head = [Spacer(1, 7), _Heading(title), Spacer(1, 4)]
    if len(content) == 1 and isinstance(content[0], Table) and content[0].wrap(_CONTENT_WIDTH, _PAGE_HEIGHT)[1] < _KEEP_TOGETHER:
        return [CondPageBreak(30 * mm), KeepTogether([*head, *content])]
    return [CondPageBreak(30 * mm), *head, *content]


def fields(rows: Sequence[tuple[str, str]]) -> Table:
    """Label / value rows; values are markup (already escaped)."""
    table = Table([[Paragraph(escape(label), _LABEL), Paragraph(value, _VALUE)] for label, value in rows],
                  colWidths=[44 * mm, _CONTENT_WIDTH - 44 * mm], hAlign="LEFT", splitInRow=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (0, -1), 3.7),  # the smaller label on the value's baseline
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, _LIGHT_RULE),
    ]))
    return table


def grid(head: Sequence[str], rows: Sequence[Sequence[str]], fractions: Sequence[float]) -> Table:
    """A table with a shaded heading row repeated on each page; cells are markup."""
    data = [[Paragraph(escape(h), _CELL_HEAD) for h in head]] + [[Paragraph(c, _CELL) for c in row] for row in rows]
    table = Table(data, colWidths=[f * _CONTENT_WIDTH for f in fractions], repeatRows=1, hAlign="LEFT", splitInRow=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def banner(title: str, note: str) -> Table:
    """A boxed, centred warning across the text width."""
    table = Table([[[Paragraph(escape(title), _BANNER), Paragraph(escape(note), _BANNER_NOTE)]]],
                  colWidths=[_CONTENT_WIDTH], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 2, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    return table


# --- every page ------------------------------------------------------------------------------

def _born(sex: str) -> str:
    return {"féminin": "née le", "masculin": "né le"}.get(clean(sex).strip().lower(), "né(e) le")


class Page:
    """What every page carries: the header (establishment, title, PROVISOIRE, the patient) and the
    footer (date, dossier number, page X/Y). The header's height depends on how long the names are,
    and sets the top margin of the text."""

    def __init__(self, data: ReportData) -> None:
        self.signed = data.signed
        self.footer_left = f"Édité le {shorten(data.generated_at, 40)}"
        self.dossier = shorten(data.dossier_number, 40)
        p = data.patient
        # Abnormally long values are cut here (only here) so the header cannot eat the page.
        name = shorten(p.display_name, 200)
        birth = shorten(p.birth_date, 40)
        sex = shorten(p.sex, 40)
        room_for_stamp = 0 if self.signed else 34 * mm
        self.establishment = Paragraph(markup(shorten(data.establishment, 200)), _HEADER_ESTABLISHMENT)
        self.subtitle = Paragraph(escape(TITLE), _HEADER_SUBTITLE)
        born = f"{_born(p.sex)} <b>{markup(birth)}</b>" if birth != NOT_GIVEN else f"date de naissance : <i>{NOT_GIVEN}</i>"
        self.patient = Paragraph(f"Patient : <b>{markup(name)}</b> — {born} — sexe : {markup(sex)}", _HEADER_PATIENT)
        self._h_establishment = self.establishment.wrap(_CONTENT_WIDTH - room_for_stamp, _PAGE_HEIGHT)[1]
        self._h_subtitle = self.subtitle.wrap(_CONTENT_WIDTH - room_for_stamp, _PAGE_HEIGHT)[1]
        self._h_patient = self.patient.wrap(_CONTENT_WIDTH, _PAGE_HEIGHT)[1]
        top_block = max(self._h_establishment + self._h_subtitle, 0 if self.signed else 9 * mm)
        self._rule1 = top_block + 3
        self._rule2 = self._rule1 + 4 + self._h_patient + 3
        self.top_margin = _TOP + self._rule2 + 8 * mm

    def draw(self, canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        top = _PAGE_HEIGHT - _TOP
        left, right = MARGIN_X, _PAGE_WIDTH - MARGIN_X
        self.establishment.drawOn(canvas, left, top - self._h_establishment)
        self.subtitle.drawOn(canvas, left, top - self._h_establishment - self._h_subtitle)
        if not self.signed:
            canvas.setLineWidth(1.5)
            canvas.setStrokeColor(colors.black)
            canvas.rect(right - 32 * mm, top - 9 * mm, 32 * mm, 9 * mm)
            canvas.setFont("Helvetica-Bold", 12)
            canvas.drawCentredString(right - 16 * mm, top - 6.2 * mm, PROVISIONAL)
        canvas.setLineWidth(0.6)
        canvas.setStrokeColor(_RULE)
        canvas.line(left, top - self._rule1, right, top - self._rule1)
        self.patient.drawOn(canvas, left, top - self._rule1 - 4 - self._h_patient)
        canvas.line(left, top - self._rule2, right, top - self._rule2)

        canvas.setLineWidth(0.4)
        canvas.line(left, _FOOTER_Y + 11, right, _FOOTER_Y + 11)
        canvas.setFont("Helvetica", 8.5)
        canvas.drawString(left, _FOOTER_Y, self.footer_left)
        canvas.drawRightString(right, _FOOTER_Y, f"Télédossier n° {self.dossier} — page {number}/{total}")
        canvas.restoreState()


class DeferredPagesCanvas(Canvas):
    """Keeps each finished page until the document is complete, then decorates them all knowing the
    page count (for "page X/Y")."""

    def __init__(self, *args: Any, decorate: Callable[[Canvas, int, int], None], created: str | None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decorate = decorate
        self._pending: list[dict[str, Any]] = []
        if created is not None:
            self.setDateFormatter(lambda *_ymdhms: created)

    def showPage(self) -> None:
        self._pending.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pending)
        for number, state in enumerate(self._pending, start=1):
            self.__dict__.update(state)
            self._decorate(self, number, total)
            super().showPage()
        super().save()
