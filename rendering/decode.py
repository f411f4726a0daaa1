"""Open the original, the mask and a background image for rendering.

Everything comes out upright (EXIF orientation applied) and 8-bit: CMYK is
converted through its own ICC profile when it has one, 16-bit and float
greyscale are scaled (Pillow's own convert would clip them to white), and
transparency in the original is laid on white, the way the model saw it. The
profile that goes with the pixels is returned beside them.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from rendering import photoshop

Source = bytes | Path | str

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
SRGB_ICC: bytes = _SRGB.tobytes()
_WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_WITH_ALPHA = ("RGBA", "LA", "PA", "La", "RGBa")
# Photoshop blocks of the original worth delivering: IPTC-NAA (0x0404), its
# digest (0x0425), the copyright flag (0x040A) and URL (0x040B). Paths,
# thumbnails, resolution, EXIF and XMP copies would describe the old pixels.
KEPT_RESOURCES = frozenset({0x0404, 0x0425, 0x040A, 0x040B})
# EXIF tags that would be wrong about the delivered file: orientation (its pixels
# are upright), resolution (written from the template or the original's DPI),
# the pixel size and the thumbnail (they show the old frame), maker notes (their
# internal offsets break when rewritten). GPS is dropped too: a delivered file is
# served at a link a customer may pass on, and a shop's product photo has no use
# for where it was taken. Camera, dates, artist and copyright stay.
_IFD0_DROPPED = (0x0112, 0x011A, 0x011B, 0x0128, 0x8825)
_EXIF_IFD, _EXIF_DROPPED = 0x8769, (0xA002, 0xA003, 0x927C)


@dataclass
class Decoded:
    image: Image.Image  # upright RGB
    icc_profile: bytes | None  # the profile of ``image``'s pixels; None = assume sRGB
    dpi: tuple[float, float] | None = None
    resources: list[photoshop.Resource] = field(default_factory=list)
    exif: Image.Exif | None = None  # the original's EXIF, cleaned for the delivered file


def open_original(source: Source) -> Decoded:
    with Image.open(_stream(source)) as im:
        icc = im.info.get("icc_profile") or None
        dpi = _dpi(im)
        resources = [r for r in _photoshop_resources(im) if r.id in KEPT_RESOURCES]
        exif = carried_exif(im)
        upright = ImageOps.exif_transpose(im)
        rgb, icc = to_rgb(upright, icc)
    if dpi and upright.size != im.size:
        dpi = (dpi[1], dpi[0])
    return Decoded(rgb, icc, dpi, resources, exif)


def carried_exif(im: Image.Image) -> Image.Exif | None:
    """The original's EXIF as it should travel into the final, or None when nothing is left."""
    try:
        original = im.getexif()
        if not original:
            return None
        exif = Image.Exif()
        exif.load(original.tobytes())
        for tag in _IFD0_DROPPED:
            exif.pop(tag, None)
        sub = exif.get_ifd(_EXIF_IFD)
        for tag in _EXIF_DROPPED:
            sub.pop(tag, None)
        if not sub:
            exif.pop(_EXIF_IFD, None)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error):
        return None  # damaged EXIF is left behind, never a reason to fail the order
    return exif if len(exif) else None


def open_mask(source: Image.Image | Source, size: tuple[int, int]) -> Image.Image:
    """The mask as "L" at ``size``, the upright original's size."""
    if isinstance(source, Image.Image):
        mask = source
    else:
        with Image.open(_stream(source)) as im:
            im.load()
            mask = im
    if mask.mode in _WIDE_GREY:
        mask = _scale_to_8bit(mask)
    elif mask.mode in _WITH_ALPHA or mask.mode == "PA":
        alpha = mask.convert("RGBA").getchannel("A")
        # A cut-out given as the mask: its alpha; an opaque image: its grey.
        mask = mask.convert("L") if alpha.getextrema() == (255, 255) else alpha
    elif mask.mode != "L":
        mask = mask.convert("L")
    if mask.size != size:
        # A mask at another size (say the model's) is stretched to the image;
        # bilinear keeps its edge soft rather than blocky.
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    return mask


def open_background(data: bytes) -> Decoded:
    with Image.open(io.BytesIO(data)) as im:
        icc = im.info.get("icc_profile") or None
        rgb, icc = to_rgb(ImageOps.exif_transpose(im), icc)
    return Decoded(rgb, icc)


def to_rgb(im: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """8-bit RGB and the profile that now describes it."""
    if im.mode in _WIDE_GREY:
        im = _scale_to_8bit(im)
    if im.mode in _WITH_ALPHA or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white, icc if _space(icc) == b"RGB " else None
    if im.mode == "RGB":
        return im, icc if _space(icc) == b"RGB " else None
    if icc and _space(icc) in (b"CMYK", b"GRAY") and im.mode in ("CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB"), SRGB_ICC
        except (ImageCms.PyCMSError, OSError):
            pass  # a damaged profile: fall back to the plain conversion
    return im.convert("RGB"), icc if _space(icc) == b"RGB " else None  # a palette keeps its RGB profile


def is_srgb(icc: bytes | None) -> bool:
    if icc is None or icc == SRGB_ICC:
        return True
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError):
        return False
    return "srgb" in description.lower()


def _space(icc: bytes | None) -> bytes | None:
    return icc[16:20] if icc and len(icc) >= 20 else None


def _scale_to_8bit(im: Image.Image) -> Image.Image:
    arr = np.asarray(im)
    if im.mode.startswith("I;16"):
        top = 65535.0
    else:  # "I" and "F" do not say their range: take the smallest usual one that holds the data
        peak = float(arr.max(initial=0))
        top = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
    scaled = arr.astype(np.float32) * np.float32(255.0 / top) + np.float32(0.5)
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))


def _dpi(im: Image.Image) -> tuple[float, float] | None:
    dpi = im.info.get("dpi")
    if not dpi or not all(d and d > 0 for d in dpi):
        return None
    return (float(dpi[0]), float(dpi[1]))


def _photoshop_resources(im: Image.Image) -> list[photoshop.Resource]:
    if im.format == "JPEG" or im.format == "MPO":
        joined = b"".join(
            data[len(photoshop.PHOTOSHOP_HEADER) :]
            for marker, data in getattr(im, "applist", [])
            if marker == "APP13" and data.startswith(photoshop.PHOTOSHOP_HEADER)
        )
        return photoshop.decode_resources(joined)
    if im.format == "TIFF":
        raw = im.tag_v2.get(photoshop.TIFF_TAG)
        if isinstance(raw, tuple):  # Pillow: bytes pieces (UNDEFINED) or ints (BYTE)
            raw = b"".join(v if isinstance(v, bytes) else bytes([v]) for v in raw)
        return photoshop.decode_resources(bytes(raw)) if raw else []
    return []


def _stream(source: Source):
    return io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
