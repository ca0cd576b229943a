"""The teleconsultation report (compte rendu de téléconsultation) as a PDF, for the specialist's
practice software and the patient's file.

`render(ReportData) -> bytes`: a pure function (no I/O, no globals, no clock but in one fallback
below); the caller fills the frozen dataclasses of `agent.report.model` from the database. A4,
French, meant to be printed in black and white: black text, grey rules, no colour carries meaning.

This module holds what the report says, in which order, and the document's metadata. The data it
reads is in `agent.report.model`; the page layout (styles, tables, header and footer) in
`agent.report.layout`; how user text is cleaned and escaped for the PDF fonts in `agent.report.text`.

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
- **Fonts**: the PDF standard fonts (Helvetica, Symbol), which every reader has; what prints for
  characters they lack is described in `agent.report.text`. The fonts are not embedded, so the
  file is not PDF/A.
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

reportlab (and the Pillow it imports), with the layout built on it, is imported by `render` when
the first report is made, not with this module, which the agent's start imports (the routes, the
MSSanté sender, printing): about 10 MiB and a tenth of the start that a cart may never use
(docs/architecture.md, "What loads when").
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from agent.report.model import ReportData, ReportVital
from agent.report.text import NOT_GIVEN, clean, free_text, inline, markup, one_line

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable

NO_VITALS = "Aucune constante relevée"
NO_DOCUMENTS = "Aucun document joint"
UNSIGNED = "Non signé — document provisoire"


def render(data: ReportData) -> bytes:
    """The report as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    from agent.report.layout import BOTTOM_MARGIN, MARGIN_X, TITLE, DeferredPagesCanvas, Page

    buffer = io.BytesIO()
    created = _pdf_date(data.generated_at)
    page = Page(data)
    doc = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=page.top_margin,
        bottomMargin=BOTTOM_MARGIN, title=TITLE, author=one_line(data.establishment),
        subject=f"Télédossier n° {one_line(data.dossier_number)}", creator="Telecart", lang="fr-FR",
        displayDocTitle=True, invariant=created is not None,
    )
    # No frame padding: the text lines up with the header and the footer.
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="text",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def canvasmaker(*args: Any, **kwargs: Any) -> Canvas:
        return DeferredPagesCanvas(*args, decorate=page.draw, created=created, **kwargs)

    doc.build(_story(data), canvasmaker=canvasmaker)
    return buffer.getvalue()


def _pdf_date(generated_at: str) -> str | None:
    """"25/11/2026 à 14:05" as a PDF date (local time, offset unknown), or None."""
    found = re.search(r"\b([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\b(?:[^0-9]{1,6}([0-9]{1,2}) *[:hH] *([0-9]{2}))?", clean(generated_at))
    if not found:
        return None
    day, month, year, hour, minute = (int(g) if g else 0 for g in found.groups())
    try:
        datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    return f"D:{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}00"


def _story(data: ReportData) -> list[Flowable]:
    from reportlab.platypus import Paragraph, Spacer

    from agent.report.layout import BODY, SUBTITLE, TITLE, TITLE_STYLE, banner, fields, grid, section

    p = data.patient
    story: list[Flowable] = [
        Paragraph(escape(TITLE), TITLE_STYLE),
        Paragraph(f"Télédossier n° {inline(data.dossier_number)} — édité le {inline(data.generated_at)}", SUBTITLE),
    ]
    if not data.signed:
        story += [Spacer(1, 4), banner(UNSIGNED, "Ce compte rendu n'est pas signé par le médecin requis : "
                                                  "son contenu peut encore changer.")]

    identity = [("Nom de naissance", inline(p.birth_name))]
    if clean(p.used_name).strip():
        identity.append(("Nom utilisé", inline(p.used_name)))
    identity += [
        ("Prénom(s)", inline(" ".join(clean(n).strip() for n in p.first_names))),
        ("Date de naissance", inline(p.birth_date)),
        ("Sexe", inline(p.sex)),
    ]
    if p.ins is not None and clean(p.ins).strip():
        identity.append(("INS (NIR)", inline(_ins(clean(p.ins).strip()))))
    story += section("Identité du patient", fields(identity))
    story += section("Téléconsultation", fields([
        ("Créneau", inline(data.slot)),
        ("Requérant", inline(data.requester)),
        ("Requis (expert)", inline(data.specialist)),
        ("Accompagnement", inline(data.accompaniment)),
        ("Consentement", inline(data.consent)),
    ]))
    story += section("Motif", *free_text(data.reason, BODY))
    story += section("Antécédents", *free_text(data.history, BODY))
    story += section("Observations cliniques", *free_text(data.observations, BODY))
    story += section("Constantes", grid(
        ["Constante", "Valeur", "Mesurée le", "Par"],
        [[inline(v.label), _value(v), inline(v.measured_at), _source(v)] for v in data.vitals], [0.30, 0.20, 0.20, 0.30],
    ) if data.vitals else Paragraph(f"<i>{NO_VITALS}</i>", BODY))
    story += section("Avis de l'expert", *free_text(data.expert_opinion, BODY))
    story += section("Signature", fields([("Signé par", inline(data.signed_by)), ("Signé le", inline(data.signed_at))])
                     if data.signed else banner(UNSIGNED, "Le médecin requis n'a pas encore signé son avis."))
    story += section("Documents joints", grid(
        ["Document", "Type", "Ajouté par", "Ajouté le"],
        [[inline(d.name), inline(d.kind), inline(d.added_by), inline(d.added_at)] for d in data.documents],
        [0.36, 0.16, 0.26, 0.22],
    ) if data.documents else Paragraph(f"<i>{NO_DOCUMENTS}</i>", BODY))
    return story


def _value(vital: ReportVital) -> str:
    value, unit = clean(vital.value).strip(), clean(vital.unit).strip()
    if not value:
        return f"<i>{NOT_GIVEN}</i>"
    return markup(f"{value}\u00a0{unit}" if unit else value)


def _source(vital: ReportVital) -> str:
    """The device that measured it (and what it said of the measurement), or « saisie »."""
    said = f"<br/><i>{inline(vital.warnings)}</i>" if vital.warnings else ""
    return inline(vital.source) + said


def _ins(ins: str) -> str:
    """A 15-character INS grouped as on a carte Vitale (1 85 05 78 006 084 36); else as given."""
    compact = re.sub(r"\s", "", ins).upper()
    if re.fullmatch(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}", compact):
        return " ".join(compact[a:b] for a, b in ((0, 1), (1, 3), (3, 5), (5, 7), (7, 10), (10, 13), (13, 15)))
    return ins
