"""What check_image makes of downloaded bytes. Every image is made here with Pillow."""
from __future__ import annotations

import hashlib
import warnings
from io import BytesIO

import pytest
from PIL import Image, ImageFile

from infrastructure.images import ACCEPTED_FORMATS, check_image
from orders.codes import FailureReason
from orders.errors import ProcessingError
from tests.support.pictures import encode, minimal_psd, png_declaring

PLENTY = 10**12  # a max_pixels that never gets in the way


def reason_for(data: bytes, max_pixels: int = PLENTY) -> FailureReason:
    with pytest.raises(ProcessingError) as caught:
        check_image(data, max_pixels=max_pixels)
    assert not caught.value.retryable  # a second download brings the same bytes
    return caught.value.reason


# --- accepted images ------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "extension", "mime_type"),
    [("JPEG", ".jpg", "image/jpeg"), ("PNG", ".png", "image/png"), ("WEBP", ".webp", "image/webp"),
     ("TIFF", ".tif", "image/tiff")],
)
def test_each_accepted_format_passes_with_its_file_type(image_format: str, extension: str, mime_type: str) -> None:
    checked = check_image(encode(image_format), max_pixels=PLENTY)

    assert (checked.format, checked.extension, checked.mime_type) == (image_format, extension, mime_type)


def test_the_accepted_formats_are_jpeg_png_webp_and_tiff() -> None:
    assert ACCEPTED_FORMATS == ("JPEG", "PNG", "WEBP", "TIFF")


def test_the_result_reports_the_size_and_the_sha256_of_the_bytes() -> None:
    data = encode("PNG", size=(20, 9))

    checked = check_image(data, max_pixels=PLENTY)

    assert (checked.width, checked.height) == (20, 9)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_the_result_cannot_be_changed_afterwards() -> None:
    checked = check_image(encode("PNG"), max_pixels=PLENTY)

    with pytest.raises(AttributeError):
        checked.width = 1  # type: ignore[misc]


def test_a_multi_picture_jpeg_from_a_phone_counts_as_a_jpeg() -> None:
    second = Image.new("RGB", (16, 12), "blue")
    data = encode("MPO", save_all=True, append_images=[second])

    checked = check_image(data, max_pixels=PLENTY)

    assert (checked.format, checked.extension) == ("JPEG", ".jpg")


def test_a_multi_page_tiff_is_checked_by_its_first_page() -> None:
    second_page = Image.new("RGB", (40, 30), "blue")
    data = encode("TIFF", size=(16, 12), save_all=True, append_images=[second_page])

    checked = check_image(data, max_pixels=PLENTY)

    assert (checked.format, checked.width, checked.height) == ("TIFF", 16, 12)


# --- not an image -----------------------------------------------------------------


def test_text_is_not_an_image() -> None:
    assert reason_for(b"Hello, this is a text file someone named photo.jpg\n") is FailureReason.NOT_AN_IMAGE


def test_empty_bytes_are_not_an_image() -> None:
    assert reason_for(b"") is FailureReason.NOT_AN_IMAGE


def test_an_html_error_page_is_not_an_image() -> None:
    assert reason_for(b"<!doctype html><title>Not found</title>") is FailureReason.NOT_AN_IMAGE


def test_a_photoshop_file_is_not_accepted_although_pillow_could_read_it() -> None:
    data = minimal_psd()
    assert Image.open(BytesIO(data)).format == "PSD"  # so the refusal below is ours, not Pillow's

    assert reason_for(data) is FailureReason.NOT_AN_IMAGE


@pytest.mark.parametrize("other_format", ["GIF", "BMP", "PDF", "EPS"])
def test_other_formats_pillow_writes_are_not_accepted(other_format: str) -> None:
    assert reason_for(encode(other_format)) is FailureReason.NOT_AN_IMAGE


# --- corrupt ----------------------------------------------------------------------


def test_a_truncated_jpeg_is_corrupt() -> None:
    data = encode("JPEG", size=(64, 64), quality=95)

    assert reason_for(data[: len(data) // 2]) is FailureReason.CORRUPT_IMAGE


def test_a_truncated_png_is_corrupt() -> None:
    data = encode("PNG", size=(64, 64))

    assert reason_for(data[: len(data) // 2]) is FailureReason.CORRUPT_IMAGE


def test_a_jpeg_cut_inside_its_header_is_corrupt_not_unknown() -> None:
    assert reason_for(encode("JPEG")[:40]) is FailureReason.CORRUPT_IMAGE


def test_a_png_with_damaged_pixel_data_is_corrupt() -> None:
    data = bytearray(encode("PNG", size=(64, 64)))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 60] = b"\xff" * 50

    assert reason_for(bytes(data)) is FailureReason.CORRUPT_IMAGE


def test_a_zero_sized_image_is_corrupt() -> None:
    assert reason_for(png_declaring(0, 5)) is FailureReason.CORRUPT_IMAGE


def test_a_truncated_jpeg_stays_corrupt_when_pillow_was_told_to_accept_truncated_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode("JPEG", size=(64, 64), quality=95)

    assert reason_for(data[: len(data) // 2]) is FailureReason.CORRUPT_IMAGE
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is given back


# --- too many pixels ------------------------------------------------------------


def test_a_tiny_png_declaring_30000_by_30000_pixels_is_too_large() -> None:
    data = png_declaring(30000, 30000)
    assert len(data) < 100

    assert reason_for(data, max_pixels=PLENTY) is FailureReason.IMAGE_TOO_LARGE


def test_an_image_between_pillows_limit_and_twice_it_is_too_large() -> None:
    # Pillow only warns in this band; check_image must refuse.
    pixels = 10000 * 10000
    assert Image.MAX_IMAGE_PIXELS < pixels < 2 * Image.MAX_IMAGE_PIXELS

    assert reason_for(png_declaring(10000, 10000), max_pixels=PLENTY) is FailureReason.IMAGE_TOO_LARGE


def test_an_image_over_max_pixels_is_too_large() -> None:
    assert reason_for(encode("PNG", size=(100, 50)), max_pixels=4999) is FailureReason.IMAGE_TOO_LARGE


def test_a_bomb_is_refused_before_its_pixels_are_decoded() -> None:
    # 5000x5000 is within Pillow's own limit, and the PNG holds no pixel data:
    # decoding it would report a corrupt file, so this answer comes from the header.
    with pytest.raises(ProcessingError) as caught:
        check_image(png_declaring(5000, 5000), max_pixels=1_000_000)

    assert caught.value.reason is FailureReason.IMAGE_TOO_LARGE
    assert "5000x5000" in caught.value.message


def test_an_image_of_exactly_max_pixels_is_accepted() -> None:
    checked = check_image(encode("PNG", size=(100, 50)), max_pixels=5000)

    assert (checked.width, checked.height) == (100, 50)


def test_checking_leaves_pillows_global_settings_as_they_were() -> None:
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS
    truncated_before = ImageFile.LOAD_TRUNCATED_IMAGES

    with pytest.raises(ProcessingError):
        check_image(png_declaring(10000, 10000), max_pixels=PLENTY)
    check_image(encode("PNG"), max_pixels=PLENTY)

    assert warnings.filters == filters_before
    assert Image.MAX_IMAGE_PIXELS == limit_before
    assert ImageFile.LOAD_TRUNCATED_IMAGES == truncated_before
