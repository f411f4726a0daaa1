"""Decide whether downloaded bytes are an image we can work on.

Only the bytes decide: the URL's file name and the server's Content-Type are
whatever the customer's server says, so neither reaches this module.
"""
from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageFile, UnidentifiedImageError

from orders.codes import FailureReason
from orders.errors import ProcessingError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")

# Format -> (file extension, MIME type). MPO is the multi-picture JPEG that
# phones write; Pillow's JPEG reader reports it under its own name.
_FILE_TYPES = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
    "TIFF": (".tif", "image/tiff"),
}
_SAME_AS = {"MPO": "JPEG"}

# Leading bytes of the accepted formats (WebP: "RIFF", length, "WEBP").
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@dataclass(frozen=True)
class CheckedImage:
    format: str
    width: int
    height: int
    sha256: str
    extension: str
    mime_type: str


def check_image(data: bytes, *, max_pixels: int) -> CheckedImage:
    """Check that ``data`` is a whole JPEG, PNG, WebP or TIFF of at most ``max_pixels``.

    Raises ProcessingError with NOT_AN_IMAGE, IMAGE_TOO_LARGE or CORRUPT_IMAGE.
    Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS) also applies, so the
    effective limit is the smaller of the two.
    """
    with _strict_decoding(), _open(data) as image:
        width, height = image.size
        _check_pixels(width, height, max_pixels)
        _decode(image)
        image_format = _SAME_AS.get(image.format or "", image.format or "")
    extension, mime_type = _FILE_TYPES[image_format]
    return CheckedImage(image_format, width, height, hashlib.sha256(data).hexdigest(), extension, mime_type)


@contextlib.contextmanager
def _strict_decoding() -> Iterator[None]:
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we want a refusal.
    # LOAD_TRUNCATED_IMAGES is a process-wide switch someone may have turned on;
    # a truncated customer image must fail, not come out half grey. Both are
    # restored afterwards. Neither is thread-local: fine for one job per process.
    truncated_before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_before


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels("more pixels than the decompression-bomb limit allows") from None
    except UnidentifiedImageError:
        if _has_accepted_signature(data):
            raise _corrupt("its header cannot be read") from None
        raise ProcessingError(FailureReason.NOT_AN_IMAGE, "the file is not a JPEG, PNG, WebP or TIFF image") from None
    except Exception:  # noqa: BLE001 - a recognised format whose header makes the reader fail
        raise _corrupt("its header cannot be read") from None


def _has_accepted_signature(data: bytes) -> bool:
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return is_webp or data.startswith(_SIGNATURES)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise _corrupt(f"it is {width}x{height} pixels")
    if width * height > max_pixels:
        raise _too_many_pixels(f"{width}x{height} pixels, more than the limit of {max_pixels}")


def _decode(image: Image.Image) -> None:
    # Opening reads only the header; decoding the pixels is what finds a
    # truncated or damaged file. A multi-frame TIFF is left on its first frame.
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels("more pixels than the decompression-bomb limit allows") from None
    except Exception:  # noqa: BLE001 - Pillow's decoders raise a wide, undocumented set on hostile input
        raise _corrupt("it cannot be decoded (truncated or damaged)") from None


def _too_many_pixels(detail: str) -> ProcessingError:
    return ProcessingError(FailureReason.IMAGE_TOO_LARGE, f"the image has {detail}")


def _corrupt(detail: str) -> ProcessingError:
    return ProcessingError(FailureReason.CORRUPT_IMAGE, f"the image is damaged: {detail}")
