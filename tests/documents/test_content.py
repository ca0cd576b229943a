"""Uploaded documents are recognised by their bytes; broken, dangerous or oversized ones are refused
with a code and a French message, and nothing pypdf or Pillow raises escapes."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from agent.dossiers.intake.content import (
    MESSAGES,
    Inspected,
    RejectedDocument,
    inspect,
    suggested_extension,
)
from tests.documents import samples

LIMIT = 10 * 1024 * 1024
FRENCH = re.compile(r"\b(ce|cette|le|la|les|est|n'est|une?|ou|pas|de)\b", re.IGNORECASE)


def refused(data: bytes, *, max_bytes: int = LIMIT, max_pixels: int = 40_000_000) -> RejectedDocument:
    with pytest.raises(RejectedDocument) as caught:
        inspect(data, max_bytes=max_bytes, max_pixels=max_pixels)
    error = caught.value
    assert error.message and FRENCH.search(error.message), error.message
    assert str(error) == error.message
    return error


# --- accepted ---------------------------------------------------------------------------------


def test_a_clean_pdf_is_recognised_with_its_page_count() -> None:
    assert inspect(samples.pdf(["un", "deux", "trois"]), max_bytes=LIMIT) == Inspected("pdf", "application/pdf", pages=3)


@pytest.mark.parametrize(("kind", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_images_are_recognised_with_their_size(kind: str, mime: str) -> None:
    found = inspect(samples.image(kind, (120, 80)), max_bytes=LIMIT)
    assert found == Inspected(kind.lower(), mime, width=120, height=80)


def test_a_png_with_transparency_or_a_palette_is_accepted() -> None:
    assert inspect(samples.image("PNG", (30, 20), "RGBA"), max_bytes=LIMIT).kind == "png"
    assert inspect(samples.image("PNG", (30, 20), "P"), max_bytes=LIMIT).kind == "png"


@pytest.mark.parametrize("edit", [samples.open_action_destination, samples.annotation_web_link])
def test_harmless_navigation_is_not_mistaken_for_a_script(edit: Callable) -> None:
    assert inspect(samples.edited(edit), max_bytes=LIMIT).pages == 2


def test_the_stored_name_ends_with_what_the_content_is() -> None:
    assert [suggested_extension(k) for k in ("pdf", "jpeg", "png")] == [".pdf", ".jpg", ".png"]


def test_an_image_named_pdf_is_an_image() -> None:
    """The name plays no part: only bytes are given, and they say JPEG."""
    assert inspect(samples.image("JPEG"), max_bytes=LIMIT).mime == "image/jpeg"


# --- size and type ----------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    assert refused(b"").code == "empty"


def test_a_file_over_the_limit_is_refused_before_anything_else_with_both_sizes() -> None:
    error = refused(b"MZ" + b"\0" * (LIMIT + 100_000))
    assert error.code == "too_large"
    assert "10,1 Mo" in error.message and "10 Mo" in error.message


def test_a_file_exactly_at_the_limit_is_judged_on_its_content() -> None:
    data = samples.pdf()
    assert inspect(data, max_bytes=len(data)).kind == "pdf"
    assert refused(data, max_bytes=len(data) - 1).code == "too_large"


@pytest.mark.parametrize("data", [
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64 + b"This program cannot be run in DOS mode",
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\0" * 40,
    b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b"\xef\xbb\xbfCompte rendu en texte",
    b"\xff\xd8",  # the start of a JPEG magic number, not all of it
    b"\x89PNG\r\n",
], ids=["exe", "zip", "html", "gif", "svg", "text", "short-jpeg", "short-png"])
def test_other_files_are_neither_pdf_nor_image(data: bytes) -> None:
    error = refused(data)
    assert (error.code, error.message) == ("unknown_type", "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG.")


def test_a_pdf_header_not_at_the_start_is_refused_even_behind_an_image_or_html_start() -> None:
    """Readers would open these as PDFs (header within 1024 bytes): the stuff of polyglots."""
    clean = samples.pdf()
    for prefix in (b"<html><!-- ", b"\xef\xbb\xbf", samples.image("JPEG")[:200]):
        assert refused(prefix + clean).code == "pdf_unreadable"


# --- broken PDFs ------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [10, 200, 0.5, 0.9])
def test_a_truncated_pdf_is_refused(cut: float) -> None:
    clean = samples.pdf()
    length = len(clean) - cut if isinstance(cut, int) else int(len(clean) * cut)
    assert refused(clean[:length]).code == "pdf_unreadable"


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
    b"%PDF-1.4\nhello world\n%%EOF",
    b"%PDF-",
    b"%PDF-1.4\n1 0 obj\n" + b"[" * 5000 + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
], ids=["binary-garbage", "text", "header-only", "deep-nesting"])
def test_garbage_after_the_pdf_header_is_refused(data: bytes) -> None:
    assert refused(data).code == "pdf_unreadable"


def test_a_pdf_without_pages_is_refused() -> None:
    assert refused(samples.no_pages()).code == "pdf_unreadable"


def test_a_compressed_bomb_in_a_page_is_refused_not_inflated() -> None:
    assert refused(samples.flate_bomb()).code == "pdf_unreadable"


# --- encrypted PDFs ---------------------------------------------------------------------------


@pytest.mark.parametrize("user_password", ["secret", ""], ids=["password", "owner-restrictions-only"])
def test_an_encrypted_pdf_is_refused(user_password: str) -> None:
    error = refused(samples.encrypted(user_password))
    assert error.code == "pdf_encrypted" and "protégé" in error.message


def test_an_aes_encrypted_pdf_is_refused_as_encrypted_not_as_broken() -> None:
    """pypdf needs the `cryptography` library for AES, and raises DependencyError without it."""
    assert refused(samples.aes_encrypted()).code == "pdf_encrypted"


# --- active content ---------------------------------------------------------------------------


@pytest.mark.parametrize("edit", [
    samples.open_action_script,
    samples.open_action_launch,
    samples.names_tree_script,
    samples.catalog_additional_action,
    samples.page_additional_action,
    samples.annotation_script,
    samples.annotation_additional_action,
    samples.outline_script,
    samples.embedded_file,
    samples.chained_script,
], ids=lambda edit: edit.__name__)
def test_a_pdf_that_runs_or_hides_something_is_refused(edit: Callable) -> None:
    error = refused(samples.edited(edit))
    assert (error.code, error.message) == ("pdf_scripts", MESSAGES["pdf_scripts"])


def test_scripts_are_found_through_escaped_names_and_a_repaired_cross_reference() -> None:
    """`/J#61vaScript` is `/JavaScript` to a reader; a byte search alone would miss it, and the
    lengths changed so pypdf had to rebuild the cross-reference."""
    hostile = samples.edited(samples.open_action_script)
    disguised = hostile.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in disguised
    assert refused(disguised).code == "pdf_scripts"


# --- images -----------------------------------------------------------------------------------


def test_a_png_declaring_ten_billion_pixels_is_refused_as_too_big() -> None:
    error = refused(samples.png_header_only(100_000, 100_000))
    assert (error.code, error.message) == ("image_too_big", MESSAGES["image_too_big"])


def test_the_size_is_judged_from_the_header_before_decoding() -> None:
    """64 megapixels is under Pillow's own limit and there are no pixels at all: refused as too
    big, not as broken, so nothing was decoded."""
    assert refused(samples.png_header_only(8000, 8000)).code == "image_too_big"


@pytest.mark.parametrize("size", [(60_000, 60_000), (8000, 8000)], ids=["over-pillow-limit", "over-our-limit"])
def test_a_jpeg_declaring_a_huge_frame_is_refused_as_too_big(size: tuple[int, int]) -> None:
    assert refused(samples.jpeg_declaring(*size)).code == "image_too_big"


def test_between_pillows_warning_and_error_limits_the_image_is_too_big_however_warnings_are_set() -> None:
    """100 megapixels: Pillow's Image.open warns (DecompressionBombWarning), an exception only
    when the application turned warnings into errors; refused either way."""
    bomb = samples.png_header_only(10_000, 10_000)
    with pytest.warns(Image.DecompressionBombWarning):
        assert refused(bomb).code == "image_too_big"
    with warnings.catch_warnings():  # the test's own setting: the code under test changes none
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert refused(bomb).code == "image_too_big"


def test_the_pixel_limit_is_the_callers() -> None:
    data = samples.image("PNG", (100, 100))
    assert refused(data, max_pixels=9_999).code == "image_too_big"
    assert inspect(data, max_bytes=LIMIT, max_pixels=10_000).width == 100


@pytest.mark.parametrize("data", [
    samples.png_header_only(10, 10),
    samples.image("PNG")[:-30],
    samples.image("PNG").replace(b"IDAT", b"IDAU"),
    samples.image("JPEG")[:300],
    samples.image("PNG")[:33] + b"\0\0\0\x04IDAT\xde\xad\xbe\xef\0\0\0\0" + samples.image("PNG")[-12:],
    samples.png_header_only(0, 10),
], ids=["no-pixels", "truncated-png", "bad-chunk", "truncated-jpeg", "bad-crc", "zero-width"])
def test_a_broken_image_is_refused(data: bytes) -> None:
    assert refused(data).code == "image_unreadable"


# --- nothing escapes --------------------------------------------------------------------------

MAGIC = [b"", b"%PDF-1.7\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\x89PNG\r\n\x1a\n",
         b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"]
CLEAN = [samples.pdf(["x"]), samples.image("JPEG", (24, 16)), samples.image("PNG", (24, 16))]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _never_anything_but_rejected(data: bytes) -> None:
    try:
        inspect(data, max_bytes=LIMIT)
    except RejectedDocument as error:
        assert error.code in MESSAGES and error.message


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=3000), st.sampled_from([b"", b"\nstartxref\n9\n%%EOF\n"]))
def test_any_bytes_after_any_magic_number_raise_only_rejected_document(magic: bytes, tail: bytes, end: bytes) -> None:
    """With a PDF ending too, so that pypdf itself gets to read the bytes."""
    _never_anything_but_rejected(magic + tail + end)


@FUZZ
@given(st.sampled_from(CLEAN), st.data())
def test_damaged_real_files_raise_only_rejected_document(clean: bytes, data: st.DataObject) -> None:
    """Valid files with some bytes overwritten or cut: past the magic number, into the parsers."""
    at = data.draw(st.integers(0, len(clean) - 1))
    patch = data.draw(st.binary(min_size=0, max_size=24))
    end = data.draw(st.integers(at, min(len(clean), at + 24)))
    damaged = clean[:at] + patch + clean[end:]
    if data.draw(st.booleans()):
        damaged = damaged[:data.draw(st.integers(0, len(damaged)))]
    _never_anything_but_rejected(damaged)
