"""User text as the report can print it: cleaned for the PDF standard fonts, then escaped into
reportlab Paragraph markup. Kept apart from the layout because it is where the surprises are (any
Unicode a nurse can paste) and it is pure string work, testable without drawing anything.

The fonts are Helvetica and Symbol, which every reader has, so the cart's image needs no system
fonts. They cover Windows-1252 (all of French, œ, « », €, ’, —) and, through the Symbol font,
≤ ≥ − → √ and Greek letters. Text is normalised first (NFC, so an "e" followed by a combining accent
prints as "é"); a letter with a diacritic outside that set prints without it ("ő" → "o", "ł" → "l");
superscripts outside it print after a caret ("10⁹/L" → "10^9/L", never "109/L"); subscripts as
plain digits ("SpO₂" → "SpO2"); control and zero-width characters are dropped. What is still
unprintable (Chinese, emoji) shows as a black square, visibly, rather than vanishing.

User text is text, never markup: every string is escaped before it reaches Paragraph; line breaks
are kept, blank lines separate paragraphs, leading spaces are kept.

reportlab is imported by `free_text`, the one function here that makes its objects, when a PDF is
drawn (agent/report/pdf.py says why).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Flowable

NOT_GIVEN = "Non renseigné"

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


def clean(text: str | None) -> str:
    """Text Helvetica can print, newlines as \\n; never raises (even on lone surrogates)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _UNPRINTABLE.search(text):
        return text
    text = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)  # NFC would choke on them
    text = _SUPERSCRIPT_RUN.sub(_superscripts, unicodedata.normalize("NFC", text))
    return _UNPRINTABLE.sub(_fix_char, text)


def one_line(text: str | None) -> str:
    """For the canvas, which knows no markup and no line breaks."""
    return " ".join(clean(text).split()) or NOT_GIVEN


def shorten(text: str | None, limit: int) -> str:
    """One line of at most `limit` characters (an ellipsis marks a cut)."""
    line = one_line(text)
    return line if len(line) <= limit else line[:limit - 1] + "…"


def markup(text: str) -> str:
    """One cleaned block of text as Paragraph markup: escaped, line breaks and indentation kept."""
    lines = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        lines.append("&nbsp;" * (len(line) - len(body)) + escape(body.rstrip()))
    return "<br/>".join(lines)


def inline(text: str | None, missing: str = NOT_GIVEN) -> str:
    """A short field as markup: escaped, line breaks kept, `missing` (in italics) when empty."""
    cleaned = clean(text).strip()
    return markup(cleaned) if cleaned else f"<i>{escape(missing)}</i>"


_BLANK_LINES = re.compile("\n(?:[ \u00a0]*\n)+")


def free_text(text: str | None, style: ParagraphStyle) -> list[Flowable]:
    """Long free text as paragraphs (split on blank lines), which flow over pages."""
    from reportlab.platypus import Paragraph

    cleaned = clean(text).strip()
    if not cleaned:
        return [Paragraph(f"<i>{NOT_GIVEN}</i>", style)]
    return [Paragraph(markup(block), style) for block in _BLANK_LINES.split(cleaned) if block.strip()]
