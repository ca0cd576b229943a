"""What an uploaded document really is, judged by its bytes, never by its name or declared type.

`inspect(data, max_bytes=...)` accepts a PDF, a JPEG or a PNG that fully parses and carries nothing
active, and says which it is; anything else raises `RejectedDocument` with a machine code and a
French message a nurse can act on. Pure: no I/O, no clock, no global state changed.

Choices a reader of the code would otherwise have to guess:

- **`%PDF-` must start the file.** Readers accept it anywhere in the first 1024 bytes, which is
  what polyglots (a file that is a valid HTML page, ZIP or image *and* a PDF) rely on; every
  producer we care about (scanners, lab software, office suites) writes it at offset 0. A file
  with `%PDF-` later in its first 1024 bytes is refused as a damaged PDF, even if it also starts
  like an image.
- **PDF parsing is pypdf's lenient mode plus our own checks**, not `strict=True`: strict mode also
  refuses the slightly wrong cross-reference offsets that real producers write and that every
  viewer repairs. What must be refused is refused by us: no `%%EOF` in the last 1024 bytes
  (truncation: Acrobat's own rule), no page, a page without a usable size, a page whose content
  cannot be decoded, anything pypdf cannot parse. pypdf's own limits (`pypdf.Configuration`) bound
  stream decompression, so a compressed bomb is refused as unreadable, not expanded.
- **Active content is searched in the whole object graph**, from the trailer through every
  reference, not only in the catalog, the name tree, pages and annotations: outlines, form fields
  and nested `/Next` actions carry scripts as well. Names are compared after pypdf decodes them
  (`/J#61vaScript` is `/JavaScript`). A plain byte search for the long tokens is a second net
  for objects the viewer might read but pypdf's repaired cross-reference does not reach. Links to
  web pages (`/URI`) are allowed: lab reports carry them and viewers ask before opening.
- **Any encryption is refused**, even with an empty user password: we could not look inside for
  scripts (AES needs a library the cart does not ship), and the signature stamp could not be added.
- **Image size is checked from the header before any pixel is decoded**; Pillow's own bomb check
  (twice `Image.MAX_IMAGE_PIXELS`) raises earlier in `Image.open` and is mapped to the same code.
  Pillow's `DecompressionBombWarning` is caught when the application turned warnings into errors;
  we do not turn it into one ourselves, since `warnings.catch_warnings` changes process-wide state
  from a worker thread.
- **Every exception from pypdf or Pillow becomes a `RejectedDocument`**: hostile files make them
  raise IndexError, KeyError, RecursionError, zlib errors and more, which must never reach the
  caller as a 500.
- **pypdf and Pillow are imported by the first document inspected**, not when the agent starts
  (docs/architecture.md, "What loads when").
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

Kind = Literal["pdf", "jpeg", "png"]

_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024  # where readers look for %PDF- at the start, and for %%EOF at the end
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_MIME: dict[Kind, str] = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
_EXTENSION: dict[Kind, str] = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}
_PILLOW_FORMAT = {"jpeg": "JPEG", "png": "PNG"}

# Names that make a PDF do something besides showing pages, as dictionary keys or name values.
_ACTIVE_NAMES = frozenset({
    "/JS", "/JavaScript",  # script actions and the document-level script name tree
    "/AA",  # additional actions: triggers on opening a document or page, on a field or annotation
    "/Launch", "/ImportData", "/SubmitForm", "/GoToR", "/GoToE", "/RichMediaExecute", "/Rendition",
    "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/FileAttachment",  # files hidden inside
    "/XFA", "/RichMedia", "/RichMediaContent", "/OnInstantiate",  # forms and media with own scripts
})
# Long enough never to occur by chance in compressed or image data.
_ACTIVE_TOKENS = (b"/JavaScript", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/OnInstantiate")

MESSAGES = {
    "empty": "Le fichier est vide : il n'y a rien à joindre.",
    "too_large": "Le fichier est trop volumineux.",
    "unknown_type": "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG.",
    "pdf_unreadable": ("Ce PDF est abîmé ou incomplet et ne peut pas être lu. "
                       "Demandez-en un nouvel exemplaire, ou scannez le document papier."),
    "pdf_encrypted": ("Ce PDF est protégé par un mot de passe ou un verrou. "
                      "Demandez-en une version non protégée, ou imprimez-le et scannez-le."),
    "pdf_scripts": ("Ce PDF contient des éléments actifs (programmes ou fichiers cachés) "
                    "qui pourraient être dangereux : il est refusé. Imprimez-le et scannez-le, "
                    "ou demandez-en une autre version."),
    "image_unreadable": ("Cette image est abîmée ou incomplète et ne peut pas être affichée. "
                         "Reprenez la photo ou refaites le scan."),
    "image_too_big": ("Cette image est trop grande pour être ouverte sans risque. "
                      "Reprenez la photo en qualité normale, ou réduisez-la avant de l'envoyer."),
}


class RejectedDocument(Exception):
    """A document the cart will not store; `message` is French and shown to the nurse as it is."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class Inspected:
    kind: Kind
    mime: str
    pages: int | None = None  # PDF only
    width: int | None = None  # images only, in pixels as stored (before any EXIF rotation)
    height: int | None = None


def suggested_extension(kind: Kind) -> str:
    """The stored name ends with what the content is, whatever the uploaded name said."""
    return _EXTENSION[kind]


def inspect(data: bytes, *, max_bytes: int, max_pixels: int = 40_000_000) -> Inspected:
    """The kind of a PDF, JPEG or PNG that fully parses and is safe to show, or RejectedDocument."""
    if not data:
        raise RejectedDocument("empty")
    if len(data) > max_bytes:
        raise RejectedDocument("too_large", f"Le fichier est trop volumineux ({_size(len(data), up=True)}) : "
                                            f"la limite est de {_size(max_bytes, up=False)}.")
    kind = _sniff(data)
    if kind == "pdf":
        return Inspected("pdf", _MIME["pdf"], pages=_pdf_pages(data))
    width, height = _image_size(data, kind, max_pixels)
    return Inspected(kind, _MIME[kind], width=width, height=height)


def _sniff(data: bytes) -> Kind:
    if data.startswith(_PDF_MAGIC):
        return "pdf"
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:  # a reader would open it as a PDF: see the docstring
        raise RejectedDocument("pdf_unreadable")
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_PNG_MAGIC):
        return "png"
    raise RejectedDocument("unknown_type")


def _size(n: int, *, up: bool) -> str:
    """French size for a nurse: "850 Ko", "12,4 Mo"; the file's size rounded up, the limit down,
    so a file just over the limit never reads as equal to it."""
    rounding = math.ceil if up else math.floor
    if n < 1024 * 1024:
        return f"{max(1, rounding(n / 1024))} Ko"
    tenths = rounding(n / (1024 * 1024) * 10)
    return f"{tenths // 10} Mo" if tenths % 10 == 0 else f"{tenths // 10},{tenths % 10} Mo"


def _pdf_pages(data: bytes) -> int:
    if b"%%EOF" not in data[-_PDF_HEADER_WINDOW:]:
        raise RejectedDocument("pdf_unreadable")  # truncated: the end of the file never arrived
    if any(token in data for token in _ACTIVE_TOKENS):
        raise RejectedDocument("pdf_scripts")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, WrongPasswordError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise RejectedDocument("pdf_encrypted")
        if _has_active_content(reader):
            raise RejectedDocument("pdf_scripts")
        pages = 0
        for page in reader.pages:
            _check_page(page)
            pages += 1
    except RejectedDocument:
        raise
    except (DependencyError, FileNotDecryptedError, WrongPasswordError) as error:
        raise RejectedDocument("pdf_encrypted") from error  # AES needs `cryptography`, absent here
    except Exception as error:  # hostile input: pypdf raises anything, RecursionError included
        raise RejectedDocument("pdf_unreadable") from error
    if pages == 0:
        raise RejectedDocument("pdf_unreadable")
    return pages


def _check_page(page: PageObject) -> None:
    """A page a viewer can draw: a real size, and content streams that decode."""
    box = page.mediabox
    if not (box.width > 0 and box.height > 0):
        raise RejectedDocument("pdf_unreadable")
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()


def _has_active_content(reader: PdfReader) -> bool:
    """Walks every object reachable from the trailer, each indirect object once, without recursion
    (hostile nesting must not exhaust the stack); raw items, so a reference cycle ends."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference not in seen:
                seen.add(reference)
                stack.append(item.get_object())
        elif isinstance(item, DictionaryObject):
            for key, value in dict.items(item):
                if key in _ACTIVE_NAMES:
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
        elif isinstance(item, NameObject) and item in _ACTIVE_NAMES:
            return True
    return False


def _image_size(data: bytes, kind: Kind, max_pixels: int) -> tuple[int, int]:
    """Width and height of an image that fully decodes; its size is judged before decoding."""
    from PIL import Image

    formats = [_PILLOW_FORMAT[kind]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:  # reads the header only
            width, height = image.size
            if width <= 0 or height <= 0:
                raise RejectedDocument("image_unreadable")
            if width * height > max_pixels:
                raise RejectedDocument("image_too_big")
            image.verify()  # chunk checksums (PNG); leaves the image unusable, hence the re-open
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()
    except RejectedDocument:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RejectedDocument("image_too_big") from error
    except Exception as error:  # hostile input: Pillow raises OSError, SyntaxError, IndexError...
        raise RejectedDocument("image_unreadable") from error
    return width, height
