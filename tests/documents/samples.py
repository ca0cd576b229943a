"""Documents built in memory for the tests: clean ones from reportlab and Pillow, hostile ones by
editing them with pypdf or by writing the bytes of a header by hand."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.pdfgen.canvas import Canvas


def pdf(texts: Sequence[str] = ("Compte rendu biologique", "Résultats : normaux"),
        size: tuple[float, float] = (595.0, 842.0)) -> bytes:
    """One page per text, the text written near the top left."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=size, invariant=True)
    for text in texts:
        canvas.setFont("Helvetica", 12)
        canvas.drawString(40, size[1] - 60, text)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def edited(edit: Callable[[PdfWriter], None], source: bytes | None = None) -> bytes:
    """A clean PDF rewritten by pypdf after `edit` changed it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source or pdf())))
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _script(code: str = "app.alert('bonjour');") -> JavaScript:
    return JavaScript(code)


def open_action_script(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(_script())


def open_action_launch(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})


def open_action_destination(writer: PdfWriter) -> None:
    """Harmless: opening at page 1, fit to width."""
    writer.root_object[NameObject("/OpenAction")] = ArrayObject([
        writer.pages[0].indirect_reference, NameObject("/FitH"), NumberObject(842)])


def names_tree_script(writer: PdfWriter) -> None:
    writer.add_open_action(_script())  # despite its name, pypdf adds it to /Names /JavaScript


def catalog_additional_action(writer: PdfWriter) -> None:
    writer.root_object[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): _script()})


def page_additional_action(writer: PdfWriter) -> None:
    writer.pages[-1].add_action(PageTrigger.OPEN, _script())


def _annotation(writer: PdfWriter, **entries: object) -> None:
    annotation = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (40, 40, 200, 80)]),
        NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
    })
    annotation.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    writer.add_annotation(0, annotation)


def annotation_script(writer: PdfWriter) -> None:
    _annotation(writer, A=_script())


def annotation_additional_action(writer: PdfWriter) -> None:
    _annotation(writer, AA=DictionaryObject({NameObject("/E"): _script()}))


def annotation_web_link(writer: PdfWriter) -> None:
    """Harmless: a link to a web page, as lab reports carry."""
    _annotation(writer, A=DictionaryObject({
        NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.org/")}))


def outline_script(writer: PdfWriter) -> None:
    """A bookmark whose action is a script: neither catalog, names, page nor annotation."""
    item = writer.add_outline_item(title="Résultats", page_number=0).get_object()
    item[NameObject("/A")] = _script()


def embedded_file(writer: PdfWriter) -> None:
    writer.add_attachment("facture.exe", b"MZ\x90\x00 not really a program")


def chained_script(writer: PdfWriter) -> None:
    """A harmless first action whose /Next runs a script."""
    first = DictionaryObject({NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.org/"),
                              NameObject("/Next"): writer._add_object(_script())})
    writer.root_object[NameObject("/OpenAction")] = first


def encrypted(user_password: str) -> bytes:
    return edited(lambda writer: writer.encrypt(user_password, "proprietaire"))


def aes_encrypted() -> bytes:
    """A clean PDF whose trailer declares AES-256 encryption (R6) with made-up keys."""
    def zeros(n: int) -> bytes:
        return b"<" + b"00" * n + b">"

    encrypt = (b"/Encrypt << /Filter /Standard /V 5 /R 6 /Length 256 /P -3904 /O " + zeros(48) + b" /U " + zeros(48)
               + b" /OE " + zeros(32) + b" /UE " + zeros(32) + b" /Perms " + zeros(16)
               + b" /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF >>\n")
    clean = pdf()
    at = clean.rindex(b"/Root")  # in the trailer, after every object: no offset moves
    return clean[:at] + encrypt + clean[at:]


def flate_bomb() -> bytes:
    """A page whose content stream inflates to 80 MB (over pypdf's 75 MB limit) from 78 kB."""
    from pypdf.generic import EncodedStreamObject

    def edit(writer: PdfWriter) -> None:
        stream = EncodedStreamObject()
        stream._data = zlib.compress(b"\0" * 80_000_000, 9)
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)

    return edited(edit)


def no_pages() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def image(kind: str = "PNG", size: tuple[int, int] = (120, 80), mode: str = "RGB") -> bytes:
    picture = Image.new(mode, size, "white")
    ImageDraw.Draw(picture).ellipse((2, 2, size[0] - 3, size[1] - 3), outline="black", width=2)
    out = io.BytesIO()
    picture.save(out, kind)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size (8-bit RGB) and has no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) claims another size."""
    data = image("JPEG", (16, 16))
    sof = data.index(b"\xff\xc0")  # marker, length (2), precision (1), height (2), width (2)
    return data[:sof + 5] + struct.pack(">HH", height, width) + data[sof + 9:]


def signature_image(size: tuple[int, int] = (800, 300), paper: int | tuple[int, int] = 255,
                    ink: tuple[int, int, int] = (0, 0, 0), strokes: tuple[int, int, int, int] = (150, 90, 650, 210),
                    dust: tuple[int, int] | None = None, kind: str = "PNG", exif_orientation: int | None = None) -> bytes:
    """Strokes of ink inside `strokes` (left, top, right, bottom) on paper: one grey level, or a
    gradient from the first level on the left to the second on the right (a shadowed photo)."""
    picture = Image.new("RGB", size)
    if isinstance(paper, int):
        picture.paste((paper, paper, paper), (0, 0, *size))
    else:
        gradient = Image.linear_gradient("L").rotate(90).resize(size)  # black on the left
        low, high = paper
        picture = gradient.point(lambda v: low + (high - low) * v // 255).convert("RGB")
    draw = ImageDraw.Draw(picture)
    left, top, right, bottom = strokes
    middle = (top + bottom) // 2
    points = [(left, middle), (left + (right - left) // 4, top), (left + (right - left) // 2, bottom),
              (left + 3 * (right - left) // 4, top), (right, middle)]
    draw.line(points, fill=ink, width=5)
    if dust is not None:
        draw.rectangle((dust[0], dust[1], dust[0] + 2, dust[1] + 2), fill=(40, 40, 40))
    out = io.BytesIO()
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        picture.save(out, kind, exif=exif)
    else:
        picture.save(out, kind)
    return out.getvalue()


def framed(rotation: int, box: tuple[float, float, float, float], source: bytes | None = None) -> bytes:
    """The clean PDF with its last page given another media box, crop box and /Rotate."""
    from pypdf.generic import RectangleObject

    def edit(writer: PdfWriter) -> None:
        page = writer.pages[-1]
        page.mediabox = RectangleObject(box)
        page.cropbox = RectangleObject(box)
        page.rotation = rotation

    return edited(edit, source)


def cut_out_signature() -> bytes:
    """A signature already on a transparent background (RGBA PNG), as some staff will upload."""
    picture = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(picture).line([(50, 100), (150, 40), (250, 110), (350, 50)], fill=(10, 10, 80, 255), width=4)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
