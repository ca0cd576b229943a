"""The staff signature: cleaned from a photo or scan once, stamped on the last page of a PDF in
the bottom-right corner of the page as displayed, other pages untouched."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

from agent.dossiers.intake.content import RejectedDocument, inspect
from agent.dossiers.intake.stamp import NOT_AN_IMAGE, UNUSABLE, prepare_signature, stamp
from tests.documents import samples

SIGNER, SIGNED_AT = "Dr Élise Martin", "12/03/2025 à 14:32"
CAPTION = f"Signé par {SIGNER} le {SIGNED_AT}"
MM = 72 / 25.4


@pytest.fixture(scope="module")
def signature() -> bytes:
    return prepare_signature(samples.signature_image())


def opened(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


# --- prepare_signature ------------------------------------------------------------------------


def test_ink_on_white_becomes_a_cropped_transparent_png(signature: bytes) -> None:
    image = opened(signature)
    assert image.mode == "RGBA"
    # strokes span 500 x 120 px (plus the pen's width) on an 800 x 300 sheet: cropped close
    assert 500 <= image.width <= 560 and 120 <= image.height <= 170
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)
    assert {image.getpixel(corner)[3] for corner in [(0, 0), (image.width - 1, image.height - 1)]} == {0}


def test_a_large_signature_is_scaled_down_to_600_px_keeping_its_shape() -> None:
    image = opened(prepare_signature(samples.signature_image((3000, 1200), strokes=(200, 300, 2800, 900))))
    assert image.width == 600
    assert 150 <= image.height <= 175  # 600 px wide for 2600 x 600 px of ink, plus margins


def test_a_shadowed_photo_on_grey_paper_keeps_only_the_ink_in_its_colour() -> None:
    photo = samples.signature_image(paper=(165, 245), ink=(20, 30, 150), kind="JPEG")
    image = opened(prepare_signature(photo))
    assert 500 <= image.width <= 560 and 120 <= image.height <= 170  # the grey paper is not ink
    pixels = image.tobytes()
    opaque = [tuple(pixels[i:i + 4]) for i in range(0, len(pixels), 4) if pixels[i + 3] == 255]
    assert opaque and all(b > r + 40 for r, _, b, _ in opaque[:200])  # still blue


def test_a_speck_of_dust_far_from_the_signature_does_not_stretch_the_crop() -> None:
    clean = opened(prepare_signature(samples.signature_image()))
    dusty = opened(prepare_signature(samples.signature_image(dust=(780, 280))))
    assert abs(dusty.width - clean.width) <= 4 and abs(dusty.height - clean.height) <= 4


def test_a_phone_photo_is_turned_upright_from_its_exif_orientation() -> None:
    image = opened(prepare_signature(samples.signature_image(kind="JPEG", exif_orientation=6)))
    assert image.height > 3 * image.width  # a wide signature photographed with the phone on its side


def test_a_signature_already_cut_out_on_transparency_is_accepted() -> None:
    image = opened(prepare_signature(samples.cut_out_signature()))
    assert image.getpixel((0, 0))[3] == 0 and image.getchannel("A").getextrema()[1] == 255
    assert image.width < 400 and image.height < 150


@pytest.mark.parametrize(("mode", "paper", "ink", "kind"), [
    ("1", 1, 0, "PNG"), ("L", 255, 0, "PNG"), ("I;16", 65535, 0, "PNG"), ("LA", (255, 255), (0, 255), "PNG"),
    ("CMYK", (0, 0, 0, 0), (0, 0, 0, 255), "JPEG"),
], ids=["bilevel-scan", "grey", "16-bit-grey", "grey-alpha", "cmyk-jpeg"])
def test_scans_in_any_colour_mode_are_accepted(mode: str, paper: object, ink: object, kind: str) -> None:
    picture = Image.new(mode, (400, 150), paper)
    ImageDraw.Draw(picture).line([(50, 100), (150, 40), (250, 110), (350, 50)], fill=ink, width=4)
    out = io.BytesIO()
    picture.save(out, kind)
    image = opened(prepare_signature(out.getvalue()))
    assert image.mode == "RGBA" and 300 <= image.width <= 330 and 70 <= image.height <= 95


def test_the_stored_signature_carries_no_camera_metadata() -> None:
    image = opened(prepare_signature(samples.signature_image(kind="JPEG", exif_orientation=1)))
    assert not image.getexif() and "exif" not in image.info


@pytest.mark.parametrize("data", [
    samples.signature_image(strokes=(0, 0, 0, 0), ink=(255, 255, 255)),
    samples.signature_image(paper=(165, 245), strokes=(0, 0, 0, 0), ink=(165, 165, 165), kind="JPEG"),
    samples.signature_image(paper=0, ink=(0, 0, 0)),
    samples.signature_image(strokes=(0, 0, 0, 0), ink=(255, 255, 255), dust=(400, 150)),
], ids=["white", "grey-photo", "black", "only-dust"])
def test_an_image_without_ink_is_refused(data: bytes) -> None:
    with pytest.raises(RejectedDocument) as caught:
        prepare_signature(data)
    assert (caught.value.code, caught.value.message) == ("signature_unusable", UNUSABLE)


def test_a_pdf_is_not_a_signature() -> None:
    with pytest.raises(RejectedDocument) as caught:
        prepare_signature(samples.pdf())
    assert (caught.value.code, caught.value.message) == ("signature_unusable", NOT_AN_IMAGE)


def test_other_files_are_refused_as_by_inspect() -> None:
    with pytest.raises(RejectedDocument) as caught:
        prepare_signature(b"<html>signature</html>")
    assert caught.value.code == "unknown_type"
    with pytest.raises(RejectedDocument) as caught:
        prepare_signature(samples.image("PNG")[:-30])
    assert caught.value.code == "image_unreadable"


# --- stamp ------------------------------------------------------------------------------------


def pages_of(pdf: bytes) -> list:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def test_the_last_page_is_signed_and_the_others_left_alone(signature: bytes) -> None:
    original = samples.pdf(["Compte rendu, page 1", "Conclusion, page 2"])
    signed = stamp(original, signature, signer=SIGNER, signed_at=SIGNED_AT)
    before, after = pages_of(original), pages_of(signed)
    assert len(after) == len(before) == 2
    assert len(after[0].images) == 0
    assert after[0].get_contents().get_data() == before[0].get_contents().get_data()
    assert len(after[1].images) == 1
    text = after[1].extract_text()
    assert "Conclusion, page 2" in text and CAPTION in text
    assert after[0].extract_text() == before[0].extract_text()


def test_the_signed_pdf_is_still_one_the_cart_accepts_and_signing_is_repeatable(signature: bytes) -> None:
    signed = stamp(samples.pdf(), signature, signer=SIGNER, signed_at=SIGNED_AT)
    assert inspect(signed, max_bytes=10_000_000).pages == 2
    assert stamp(samples.pdf(), signature, signer=SIGNER, signed_at=SIGNED_AT) == signed


@dataclass(frozen=True)
class Placed:
    """Where the stamp shows, in the page's displayed coordinates, and the displayed size."""

    page: tuple[float, float]
    image: tuple[float, float, float, float]  # left, bottom, width, height
    caption: tuple[float, float]  # start of the baseline
    caption_upright: bool


def placed(pdf: bytes) -> Placed:
    """pypdf itself turns the page upright (`transfer_rotation_to_content`): an oracle
    independent of the stamp's own matrices."""
    page = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))).pages[-1]
    page.transfer_rotation_to_content()
    box = page.mediabox
    left, bottom = float(box.left), float(box.bottom)
    images: list[tuple[float, ...]] = []
    captions: list[tuple[float, ...]] = []

    def operator(op: bytes, args: list, cm: list, tm: list) -> None:
        if op == b"Do":
            images.append((cm[4] - left, cm[5] - bottom, cm[0], cm[3]))

    def text(content: str, cm: list, tm: list, font: object, size: float) -> None:
        if "Signé" in content:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            captions.append((x - left, y - bottom, tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]))

    page.extract_text(visitor_operand_before=operator, visitor_text=text)
    (image,), (caption,) = images, captions
    return Placed((float(box.width), float(box.height)), image, caption[:2],
                  caption[2] > 0 and abs(caption[3]) < 1e-6)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270, -90])
@pytest.mark.parametrize("box", [(0, 0, 595, 842), (0, 0, 842, 595), (100, -50, 712, 742)], ids=["a4", "landscape", "offset-letter"])
def test_the_stamp_is_upright_in_the_displayed_bottom_right_corner(signature: bytes, rotation: int,
                                                                  box: tuple[float, float, float, float]) -> None:
    where = placed(stamp(samples.framed(rotation, box), signature, signer="X", signed_at="Y"))
    width = where.page[0]
    left, bottom, image_width, image_height = where.image
    assert image_width == pytest.approx(50 * MM)  # 5 cm wide
    assert image_height == pytest.approx(50 * MM * opened(signature).height / opened(signature).width)
    assert left + image_width == pytest.approx(width - 10 * MM)  # 1 cm from the right edge
    assert 10 * MM < bottom < 20 * MM  # above its caption, near the bottom
    assert where.caption_upright
    assert where.caption[1] == pytest.approx(10 * MM) and where.caption[0] > width / 2


def test_on_a_tiny_page_the_stamp_shrinks_to_stay_inside(signature: bytes) -> None:
    where = placed(stamp(samples.framed(0, (0, 0, 144, 72)), signature, signer=SIGNER, signed_at=SIGNED_AT))
    left, bottom, image_width, image_height = where.image
    assert 0 < left and left + image_width < 144 and 0 < bottom and bottom + image_height < 72
    assert 0 < where.caption[0] and 0 < where.caption[1]


def test_a_tall_signature_is_at_most_25_mm_high() -> None:
    tall = prepare_signature(samples.signature_image((400, 900), strokes=(100, 100, 300, 800)))
    image_width, image_height = placed(stamp(samples.pdf(), tall, signer="X", signed_at="Y")).image[2:]
    assert image_height == pytest.approx(25 * MM) and image_width < 25 * MM


def test_names_are_printed_without_control_characters_and_with_letters_helvetica_has(signature: bytes) -> None:
    signed = stamp(samples.pdf(), signature, signer="Łukasz\u200b Őrs\nNowak\x00", signed_at=SIGNED_AT)
    assert f"Signé par Lukasz Ors Nowak le {SIGNED_AT}" in pages_of(signed)[-1].extract_text()


def test_a_pdf_that_cannot_be_read_or_is_encrypted_is_refused(signature: bytes) -> None:
    for data, code in [(b"%PDF-1.4\nnot really\n%%EOF", "pdf_unreadable"), (samples.encrypted("secret"), "pdf_encrypted"),
                       (samples.encrypted(""), "pdf_encrypted")]:
        with pytest.raises(RejectedDocument) as caught:
            stamp(data, signature, signer="X", signed_at="Y")
        assert caught.value.code == code


@pytest.mark.parametrize("data", [samples.image("JPEG"), samples.png_header_only(100_000, 100_000), samples.image("PNG", (700, 100))],
                         ids=["jpeg", "png-bomb", "not-prepared"])
def test_a_signature_that_is_not_a_prepared_png_is_refused(data: bytes) -> None:
    with pytest.raises(RejectedDocument) as caught:
        stamp(samples.pdf(), data, signer="X", signed_at="Y")
    assert caught.value.code == "signature_unusable"
