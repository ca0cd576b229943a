"""A staff member's signature ("Appliquer la signature"): a photo or scan of a handwritten
signature made into a clean transparent image once, then stamped on the last page of a PDF.

Pure functions on bytes: no I/O, no clock (the caller passes `signed_at` already formatted).

Choices a reader of the code would otherwise have to guess:

- **Ink is what is clearly darker than the paper around it**, not darker than a fixed grey: a
  phone photo of a sheet has shadows and a paper from grey to white. The paper's local brightness
  is the brightest value in a window about a tenth of the image's smaller side (wider than any pen
  stroke), computed on a reduced copy, so it costs little. Transparency ramps with the
  difference, so stroke edges stay smooth; the ink keeps its colour (blue stays blue).
- **The crop ignores the outermost 0.5 % of the ink on each side**, then adds a margin: a speck of
  dust far from the signature does not stretch the crop, and the tips cut off come back with the
  margin. An image with almost no ink (blank, black, or only dust) is refused.
- The image is turned upright from its EXIF orientation (phone photos) and saved without any
  metadata (no GPS position or camera serial in the stored signature).
- **The stamp sits in the bottom-right corner of the page as it is displayed**: inside the crop
  box (what viewers show), upright whatever the page's /Rotate, 5 cm wide at most, smaller on
  small pages. The overlay is one reportlab page of the displayed size, mapped onto the page by
  one matrix; pypdf isolates the original content's graphics state, so nothing it left behind
  (a transform, a colour) distorts the stamp.
- The document is rewritten whole (pypdf's writer), not updated incrementally: inputs may have
  had their cross-reference repaired on reading, and appending to a repaired file could produce
  one no viewer opens. Other pages keep their objects; only the last page's content and resources
  change.
- Pillow, pypdf and reportlab are imported by the first signature prepared or stamped, not when
  the agent starts (docs/architecture.md, "What loads when").
"""

from __future__ import annotations

import io
import re
import unicodedata
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

from agent.dossiers.intake.content import RejectedDocument, inspect

if TYPE_CHECKING:
    from PIL import Image
    from pypdf import PageObject, Transformation
    from reportlab.lib.utils import ImageReader

SIGNATURE_MAX_BYTES = 5 * 1024 * 1024
SIGNATURE_MAX_PIXELS = 30_000_000
SIGNATURE_MAX_SIDE = 600  # pixels of the stored signature: sharp at 5 cm (300 dpi)

_WORKING_SIDE = 2400  # photos are reduced to this before looking for ink
_FAINT, _SOLID = 24, 88  # darker than the paper by: fully transparent below, opaque above
_TRIM = 0.005  # share of the ink left out on each side of the crop (dust)
_MIN_INK_SHARE = 1 / 2000  # of the image's area, else there is no signature on it
_MIN_INK_PIXELS = 25

mm = 72 / 25.4  # PDF points in a millimetre (reportlab.lib.units.mm)
_STAMP_WIDTH = 50 * mm
_STAMP_MAX_HEIGHT = 25 * mm
_MARGIN = 10 * mm
_FONT = "Helvetica"
_FONT_SIZE = 8.0
_MIN_FONT_SIZE = 4.0

UNUSABLE = ("Aucune signature n'est visible sur cette image. Photographiez ou scannez une signature "
            "tracée à l'encre foncée sur un papier blanc, en cadrant la signature.")
NOT_AN_IMAGE = "La signature doit être une photo ou un scan (image JPEG ou PNG), pas un PDF."


def prepare_signature(data: bytes) -> bytes:
    """A PNG of the signature's ink on a transparent background, cropped and at most 600 px wide."""
    if inspect(data, max_bytes=SIGNATURE_MAX_BYTES, max_pixels=SIGNATURE_MAX_PIXELS).kind == "pdf":
        raise RejectedDocument("signature_unusable", NOT_AN_IMAGE)
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as original:
            original.thumbnail((_WORKING_SIDE, _WORKING_SIDE))  # JPEG: decoded already reduced
            image = _on_white(ImageOps.exif_transpose(original))
    except Exception as error:  # inspect() decoded it already; anything here is still the file's fault
        raise RejectedDocument("image_unreadable") from error
    alpha = _ink_alpha(image.convert("L"))
    bounds = _ink_bounds(alpha)
    if bounds is None:
        raise RejectedDocument("signature_unusable", UNUSABLE)
    signature = image.convert("RGBA")
    signature.putalpha(alpha)
    signature = signature.crop(bounds)
    signature.thumbnail((SIGNATURE_MAX_SIDE, SIGNATURE_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    signature.save(out, "PNG")
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparent parts shown as the white paper they stand for."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def _ink_alpha(gray: Image.Image) -> Image.Image:
    """Opacity of each pixel: how much darker it is than the paper around it."""
    from PIL import Image, ImageChops, ImageFilter

    factor = max(1, min(gray.size) // 50)
    paper = gray.reduce(factor).filter(ImageFilter.MaxFilter(5)).resize(gray.size, Image.Resampling.BILINEAR)
    darker = ImageChops.subtract(paper, gray)
    ramp = [0 if v <= _FAINT else 255 if v >= _SOLID else (v - _FAINT) * 255 // (_SOLID - _FAINT) for v in range(256)]
    return darker.point(ramp)


def _ink_bounds(alpha: Image.Image) -> tuple[int, int, int, int] | None:
    """The crop box around the ink, with a margin; None when there is no ink worth the name."""
    from PIL import Image

    ink = alpha.point(lambda v: 1 if v >= 128 else 0).convert("F")
    width, height = ink.size
    columns = [v * height for v in _floats(ink.resize((width, 1), Image.Resampling.BOX))]
    rows = [v * width for v in _floats(ink.resize((1, height), Image.Resampling.BOX))]
    if sum(columns) < max(_MIN_INK_PIXELS, width * height * _MIN_INK_SHARE):
        return None
    left, right = _span(columns)
    top, bottom = _span(rows)
    pad = max(4, (right - left + bottom - top) // 40)
    return max(0, left - pad), max(0, top - pad), min(width, right + pad), min(height, bottom + pad)


def _floats(image: Image.Image) -> array[float]:
    """The values of an "F" image (native 32-bit floats); `getdata` is deprecated in Pillow 13."""
    return array("f", image.tobytes())


def _span(profile: list[float]) -> tuple[int, int]:
    """First and past-the-last index holding the ink, all but `_TRIM` of it on either side."""
    cut = sum(profile) * _TRIM
    first = next(i for i, total in enumerate(accumulate(profile)) if total > cut)
    from_end = next(i for i, total in enumerate(accumulate(reversed(profile))) if total > cut)
    return first, len(profile) - from_end


def stamp(pdf: bytes, signature_png: bytes, *, signer: str, signed_at: str) -> bytes:
    """A copy of the PDF whose last page carries the signature and "Signé par … le …" in its
    bottom-right corner; the other pages and the page count are unchanged."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise RejectedDocument("pdf_encrypted")
        writer = PdfWriter(clone_from=reader)
        page = writer.pages[-1]
        frame = _Frame.of(page)
        if frame.width <= 0 or frame.height <= 0:
            raise RejectedDocument("pdf_unreadable")
    except RejectedDocument:
        raise
    except (DependencyError, FileNotDecryptedError) as error:  # AES: see content.py
        raise RejectedDocument("pdf_encrypted") from error
    except Exception as error:  # a PDF that did not go through inspect(), or a hostile one
        raise RejectedDocument("pdf_unreadable") from error
    overlay = _overlay(frame, _signature_reader(signature_png), f"Signé par {_printable(signer)} le {_printable(signed_at)}")
    try:
        page.merge_transformed_page(overlay, frame.transformation)
        out = io.BytesIO()
        writer.write(out)
    except Exception as error:
        raise RejectedDocument("pdf_unreadable") from error
    return out.getvalue()


@dataclass(frozen=True)
class _Frame:
    """The page as a viewer shows it: its size upright, and the matrix from that upright space
    (origin at the displayed bottom-left) to the page's own coordinates."""

    width: float
    height: float
    transformation: Transformation

    @classmethod
    def of(cls, page: PageObject) -> _Frame:
        from pypdf import Transformation

        media, crop = page.mediabox, page.cropbox
        x0, y0 = max(media.left, crop.left), max(media.bottom, crop.bottom)
        x1, y1 = min(media.right, crop.right), min(media.top, crop.top)
        if x1 <= x0 or y1 <= y0:  # a crop box outside the media box: viewers show the media box
            x0, y0, x1, y1 = media.left, media.bottom, media.right, media.top
        x0, y0, x1, y1 = float(x0), float(y0), float(x1), float(y1)
        rotation = page.rotation % 360
        # /Rotate turns the page clockwise for display; each matrix maps displayed (u, v) to (x, y).
        ctm = {
            90: (0, 1, -1, 0, x1, y0),  # x = x1 - v, y = y0 + u
            180: (-1, 0, 0, -1, x1, y1),  # x = x1 - u, y = y1 - v
            270: (0, -1, 1, 0, x0, y1),  # x = x0 + v, y = y1 - u
        }.get(rotation, (1, 0, 0, 1, x0, y0))  # 0, or a /Rotate that is not a quarter turn
        width, height = x1 - x0, y1 - y0
        if rotation in (90, 270):
            width, height = height, width
        return cls(width, height, Transformation(ctm))


def _signature_reader(signature_png: bytes) -> ImageReader:
    """The stored signature, checked again: it is ours (from prepare_signature), so anything
    larger than it could be is refused before decoding."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    try:
        with Image.open(io.BytesIO(signature_png), formats=["PNG"]) as image:
            if max(image.size) > SIGNATURE_MAX_SIDE:
                raise ValueError("not a prepared signature")
            image.load()
        return ImageReader(io.BytesIO(signature_png))
    except Exception as error:
        raise RejectedDocument("signature_unusable", UNUSABLE) from error


def _overlay(frame: _Frame, signature: ImageReader, caption: str) -> PageObject:
    """One page of the displayed size with the signature and its caption in the bottom-right."""
    from pypdf import PdfReader
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    margin = min(_MARGIN, frame.width * 0.05, frame.height * 0.05)
    room = frame.width - 2 * margin
    font_size = _FONT_SIZE
    caption_width = stringWidth(caption, _FONT, font_size)
    if caption_width > room:
        font_size = max(_MIN_FONT_SIZE, font_size * room / caption_width)
    image_width, image_height = signature.getSize()
    width = min(_STAMP_WIDTH, room)
    height = width * image_height / image_width
    max_height = min(_STAMP_MAX_HEIGHT, (frame.height - 2 * margin) / 2)
    if height > max_height:
        width, height = width * max_height / height, max_height
    right = frame.width - margin
    image_bottom = margin + font_size * 1.4

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(frame.width, frame.height), invariant=True)
    canvas.drawImage(signature, right - width, image_bottom, width, height, mask="auto")
    canvas.setFont(_FONT, font_size)
    canvas.drawRightString(right, margin, caption)
    canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(out.getvalue())).pages[0]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _printable(text: str) -> str:
    """One line Helvetica can print: control characters dropped, letters outside Windows-1252
    without their accent ("ő" → "o", "ł" → "l"); what is still unprintable shows as a black square."""
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())
    return "".join(ch if _encodable(ch) else _without_accent(ch) for ch in text)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


_BASE_LETTER = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ı": "i"}  # no decomposition


def _without_accent(ch: str) -> str:
    if ch in _BASE_LETTER:
        return _BASE_LETTER[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and all(_encodable(c) for c in base) else ch
