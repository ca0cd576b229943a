"""The teleconsultation report (compte rendu de téléconsultation) as a PDF, for the specialist's
practice software and the patient's file.

`render(ReportData) -> bytes`: a pure function (no I/O, no globals, no clock but in one fallback
below); the caller fills the frozen dataclasses below from the database. A4, French, meant to be
printed in black and white: black text, grey rules, no colour carries meaning.

Choices a reader of the code would otherwise have to guess:

- **Every page identifies the patient** (identity vigilance): the header of each page carries the
  establishment, "Compte rendu de téléconsultation", the patient's name, birth date and sex, and
  "PROVISOIRE" while the report is unsigned; the footer carries "Télédossier n° … — page X/Y"
  with the real page count (a canvas that holds the pages until it knows how many there are).
  The header grows with long names; only absurd values (over 200 characters) are cut there, with
  an ellipsis, and still print in full in the body.
- **Signed** means both `signed_by` and `signed_at` are given. Anything else prints the
  "Non signé — document provisoire" banner and "PROVISOIRE" on every page: a report never claims a
  signature it cannot date.
- **Fonts**: the PDF standard fonts (Helvetica), which every reader has, so the cart's image needs
  no system fonts. They cover Windows-1252 (all of French, œ, « », €, ’, —) and, through
  the Symbol font, ≤ ≥ − → √ and Greek letters. Text is normalised first (NFC, so an "e" followed
  by a combining accent prints as "é"); a letter with a diacritic outside that set prints without it
  ("ő" → "o", "ł" → "l"); superscripts outside it print after a caret ("10⁹/L" → "10^9/L", never
  "109/L"); subscripts as plain digits ("SpO₂" → "SpO2"); control and zero-width characters are
  dropped. What is still unprintable (Chinese, emoji) shows as a black square, visibly, rather
  than vanishing. The fonts are not embedded, so the file is not PDF/A.
- **User text is text, never markup**: every string is escaped before it reaches reportlab's
  Paragraph; line breaks are kept, blank lines separate paragraphs, leading spaces are kept, long
  words are cut, long texts and long table cells flow over as many pages as they need.
- **Metadata** (what file managers, mail gateways and indexers show without opening the document)
  holds no health data and no patient name: title "Compte rendu de téléconsultation", author the
  establishment, subject "Télédossier n° …" (a number that lets a secretary file it, meaningless
  without access to the platform), creator "Telecart", language fr-FR. The creation date is
  `generated_at` when it reads as "JJ/MM/AAAA à HH:MM" (then the same data always gives the same
  bytes); otherwise reportlab's clock.
- **Empty** free text prints "Non renseigné"; no vitals: "Aucune constante relevée"; no documents:
  "Aucun document joint". `used_name` and `ins` rows appear only when given (the caller passes the
  INS only for a qualified identity).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

TITLE = "Compte rendu de téléconsultation"
NOT_GIVEN = "Non renseigné"
NO_VITALS = "Aucune constante relevée"
NO_DOCUMENTS = "Aucun document joint"
UNSIGNED = "Non signé — document provisoire"
PROVISIONAL = "PROVISOIRE"


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
        return bool(_clean(self.signed_by).strip() and _clean(self.signed_at).strip())


def render(data: ReportData) -> bytes:
    """The report as PDF bytes."""
    buffer = io.BytesIO()
    created = _pdf_date(data.generated_at)
    page = _Page(data)
    doc = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=_MARGIN_X, rightMargin=_MARGIN_X, topMargin=page.top_margin,
        bottomMargin=_BOTTOM_MARGIN, title=TITLE, author=_one_line(data.establishment),
        subject=f"Télédossier n° {_one_line(data.dossier_number)}", creator="Telecart", lang="fr-FR",
        displayDocTitle=True, invariant=created is not None,
    )
    # No frame padding: the text lines up with the header and the footer.
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="text",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def canvasmaker(*args: Any, **kwargs: Any) -> Canvas:
        return _DeferredPagesCanvas(*args, decorate=page.draw, created=created, **kwargs)

    doc.build(_story(data), canvasmaker=canvasmaker)
    return buffer.getvalue()


# --- text ------------------------------------------------------------------------------------

# What Helvetica prints without help: printable ASCII, Latin-1 (but the soft hyphen) and the
# Windows-1252 additions. Anything else goes through _fix_char.
_UNPRINTABLE = re.compile("[^\n -~\u00a0-\u00ac\u00ae-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                          "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_SUPERSCRIPT = "\u00b9\u00b2\u00b3\u2070\u2071\u2074-\u207f"
_SUPERSCRIPT_RUN = re.compile(f"[{_SUPERSCRIPT}]*[\u2070\u2071\u2074-\u207f][{_SUPERSCRIPT}]*")  # one not in Latin-1
_REPLACE = {
    "\t": "    ", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2015": "\u2014", "\u2044": "/",
    "\u2028": "\n", "\u2029": "\n\n", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i",
}


def _fix_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _REPLACE:
        return _REPLACE[ch]
    category = unicodedata.category(ch)
    if category[0] in "CM":  # control, format (zero-width, bidi, soft hyphen), surrogate, unassigned; lone combining mark
        return ""
    if category[0] == "Z":
        return "\u00a0"  # the other spaces (thin, narrow no-break…) are non-breaking in French typography
    folded = "".join(_REPLACE.get(c, c) for c in unicodedata.normalize("NFKC", ch))
    if folded and not _UNPRINTABLE.search(folded):
        return folded  # ligatures, full-width forms, subscripts
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base != ch:
        return base  # ő → o; or a Greek letter without its accent, which the Symbol font has
    return ch  # the Symbol font's (≤ ≥ − →) or reportlab's visible black square


def _superscripts(match: re.Match[str]) -> str:
    return "^" + unicodedata.normalize("NFKC", match.group())


def _clean(text: str | None) -> str:
    """Text Helvetica can print, newlines as \\n; never raises (even on lone surrogates)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _UNPRINTABLE.search(text):
        return text
    text = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)  # NFC would choke on them
    text = _SUPERSCRIPT_RUN.sub(_superscripts, unicodedata.normalize("NFC", text))
    return _UNPRINTABLE.sub(_fix_char, text)


def _one_line(text: str | None) -> str:
    """For the canvas, which knows no markup and no line breaks."""
    return " ".join(_clean(text).split()) or NOT_GIVEN


def _shorten(text: str | None, limit: int) -> str:
    """One line of at most `limit` characters (an ellipsis marks a cut)."""
    line = _one_line(text)
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _markup(text: str) -> str:
    """One cleaned block of text as Paragraph markup: escaped, line breaks and indentation kept."""
    lines = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        lines.append("&nbsp;" * (len(line) - len(body)) + escape(body.rstrip()))
    return "<br/>".join(lines)


def _inline(text: str | None, missing: str = NOT_GIVEN) -> str:
    """A short field as markup: escaped, line breaks kept, `missing` (in italics) when empty."""
    cleaned = _clean(text).strip()
    return _markup(cleaned) if cleaned else f"<i>{escape(missing)}</i>"


_BLANK_LINES = re.compile("\n(?:[ \u00a0]*\n)+")


def _free_text(text: str | None, style: ParagraphStyle) -> list[Flowable]:
    """Long free text as paragraphs (split on blank lines), which flow over pages."""
    cleaned = _clean(text).strip()
    if not cleaned:
        return [Paragraph(f"<i>{NOT_GIVEN}</i>", style)]
    return [Paragraph(_markup(block), style) for block in _BLANK_LINES.split(cleaned) if block.strip()]


def _pdf_date(generated_at: str) -> str | None:
    """"25/11/2026 à 14:05" as a PDF date (local time, offset unknown), or None."""
    found = re.search(r"\b([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\b(?:[^0-9]{1,6}([0-9]{1,2}) *[:hH] *([0-9]{2}))?", _clean(generated_at))
    if not found:
        return None
    day, month, year, hour, minute = (int(g) if g else 0 for g in found.groups())
    try:
        datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    return f"D:{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}00"


def _ins(ins: str) -> str:
    """A 15-character INS grouped as on a carte Vitale (1 85 05 78 006 084 36); else as given."""
    compact = re.sub(r"\s", "", ins).upper()
    if re.fullmatch(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}", compact):
        return " ".join(compact[a:b] for a, b in ((0, 1), (1, 3), (3, 5), (5, 7), (7, 10), (10, 13), (13, 15)))
    return ins


# --- layout ----------------------------------------------------------------------------------

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN_X = 18 * mm
_TOP = 11 * mm  # from the top edge to the header's first line
_BOTTOM_MARGIN = 20 * mm
_FOOTER_Y = 10 * mm
_CONTENT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_X
_RULE = colors.Color(0.45, 0.45, 0.45)
_LIGHT_RULE = colors.Color(0.7, 0.7, 0.7)
_SHADE = colors.Color(0.9, 0.9, 0.9)
_KEEP_TOGETHER = 110 * mm  # tables shorter than this are not split from their title


def _style(name: str, size: float = 10, leading: float | None = None, font: str = "Helvetica", **kw: Any) -> ParagraphStyle:
    kw.setdefault("textColor", colors.black)
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.3, splitLongWords=1, **kw)


_BODY = _style("body", 10, 13.5, spaceAfter=5)
_CELL = _style("cell", 9, 11.5)
_CELL_HEAD = _style("cell_head", 9, 11.5, font="Helvetica-Bold")
_LABEL = _style("label", 9, 12.5, textColor=colors.Color(0.2, 0.2, 0.2))
_VALUE = _style("value", 10, 12.5)
_TITLE_STYLE = _style("title", 16, 20, font="Helvetica-Bold", spaceAfter=2)
_SUBTITLE = _style("subtitle", 9.5, 12.5, spaceAfter=4)
_BANNER = _style("banner", 12, 15, font="Helvetica-Bold", alignment=1)
_BANNER_NOTE = _style("banner_note", 9, 11.5, alignment=1)
_HEADER_ESTABLISHMENT = _style("header_establishment", 10, 12, font="Helvetica-Bold")
_HEADER_SUBTITLE = _style("header_subtitle", 8.5, 10.5)
_HEADER_PATIENT = _style("header_patient", 9.5, 12)


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


def _section(title: str, *content: Flowable) -> list[Flowable]:
    """A titled section. Room for the title and a few lines, or a new page: no title alone at the
    foot of a page. A short table stays on one page with its title; free text and long tables flow
    on from where they start (rather than leave half a page blank)."""
    head = [Spacer(1, 7), _Heading(title), Spacer(1, 4)]
    if len(content) == 1 and isinstance(content[0], Table) and content[0].wrap(_CONTENT_WIDTH, _PAGE_HEIGHT)[1] < _KEEP_TOGETHER:
        return [CondPageBreak(30 * mm), KeepTogether([*head, *content])]
    return [CondPageBreak(30 * mm), *head, *content]


def _fields(rows: Sequence[tuple[str, str]]) -> Table:
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


def _grid(head: Sequence[str], rows: Sequence[Sequence[str]], fractions: Sequence[float]) -> Table:
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


def _banner(title: str, note: str) -> Table:
    table = Table([[[Paragraph(escape(title), _BANNER), Paragraph(escape(note), _BANNER_NOTE)]]],
                  colWidths=[_CONTENT_WIDTH], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 2, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    return table


def _born(sex: str) -> str:
    return {"féminin": "née le", "masculin": "né le"}.get(_clean(sex).strip().lower(), "né(e) le")


def _story(data: ReportData) -> list[Flowable]:
    p = data.patient
    story: list[Flowable] = [
        Paragraph(escape(TITLE), _TITLE_STYLE),
        Paragraph(f"Télédossier n° {_inline(data.dossier_number)} — édité le {_inline(data.generated_at)}", _SUBTITLE),
    ]
    if not data.signed:
        story += [Spacer(1, 4), _banner(UNSIGNED, "Ce compte rendu n'est pas signé par le médecin requis : "
                                                   "son contenu peut encore changer.")]

    identity = [("Nom de naissance", _inline(p.birth_name))]
    if _clean(p.used_name).strip():
        identity.append(("Nom utilisé", _inline(p.used_name)))
    identity += [
        ("Prénom(s)", _inline(" ".join(_clean(n).strip() for n in p.first_names))),
        ("Date de naissance", _inline(p.birth_date)),
        ("Sexe", _inline(p.sex)),
    ]
    if p.ins is not None and _clean(p.ins).strip():
        identity.append(("INS (NIR)", _inline(_ins(_clean(p.ins).strip()))))
    story += _section("Identité du patient", _fields(identity))
    story += _section("Téléconsultation", _fields([
        ("Créneau", _inline(data.slot)),
        ("Requérant", _inline(data.requester)),
        ("Requis (expert)", _inline(data.specialist)),
        ("Accompagnement", _inline(data.accompaniment)),
        ("Consentement", _inline(data.consent)),
    ]))
    story += _section("Motif", *_free_text(data.reason, _BODY))
    story += _section("Antécédents", *_free_text(data.history, _BODY))
    story += _section("Observations cliniques", *_free_text(data.observations, _BODY))
    story += _section("Constantes", _grid(
        ["Constante", "Valeur", "Mesurée le"],
        [[_inline(v.label), _value(v), _inline(v.measured_at)] for v in data.vitals], [0.44, 0.30, 0.26],
    ) if data.vitals else Paragraph(f"<i>{NO_VITALS}</i>", _BODY))
    story += _section("Avis de l'expert", *_free_text(data.expert_opinion, _BODY))
    story += _section("Signature", _fields([("Signé par", _inline(data.signed_by)), ("Signé le", _inline(data.signed_at))])
                      if data.signed else _banner(UNSIGNED, "Le médecin requis n'a pas encore signé son avis."))
    story += _section("Documents joints", _grid(
        ["Document", "Type", "Ajouté par", "Ajouté le"],
        [[_inline(d.name), _inline(d.kind), _inline(d.added_by), _inline(d.added_at)] for d in data.documents],
        [0.36, 0.16, 0.26, 0.22],
    ) if data.documents else Paragraph(f"<i>{NO_DOCUMENTS}</i>", _BODY))
    return story


def _value(vital: ReportVital) -> str:
    value, unit = _clean(vital.value).strip(), _clean(vital.unit).strip()
    if not value:
        return f"<i>{NOT_GIVEN}</i>"
    return _markup(f"{value}\u00a0{unit}" if unit else value)


class _Page:
    """What every page carries: the header (establishment, title, PROVISOIRE, the patient) and the
    footer (date, dossier number, page X/Y). The header's height depends on how long the names are,
    and sets the top margin of the text."""

    def __init__(self, data: ReportData) -> None:
        self.signed = data.signed
        self.footer_left = f"Édité le {_shorten(data.generated_at, 40)}"
        self.dossier = _shorten(data.dossier_number, 40)
        p = data.patient
        # Abnormally long values are cut here (only here) so the header cannot eat the page.
        name = _shorten(p.display_name, 200)
        birth = _shorten(p.birth_date, 40)
        sex = _shorten(p.sex, 40)
        room_for_stamp = 0 if self.signed else 34 * mm
        self.establishment = Paragraph(_markup(_shorten(data.establishment, 200)), _HEADER_ESTABLISHMENT)
        self.subtitle = Paragraph(escape(TITLE), _HEADER_SUBTITLE)
        born = f"{_born(p.sex)} <b>{_markup(birth)}</b>" if birth != NOT_GIVEN else f"date de naissance : <i>{NOT_GIVEN}</i>"
        self.patient = Paragraph(f"Patient : <b>{_markup(name)}</b> — {born} — sexe : {_markup(sex)}", _HEADER_PATIENT)
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
        left, right = _MARGIN_X, _PAGE_WIDTH - _MARGIN_X
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


class _DeferredPagesCanvas(Canvas):
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
