"""Write the final pixels as the template's file type, with profile, DPI and Photoshop blocks.

Encoder settings are chosen for a delivered master at 12 MP (measured on a
photo-like 4000x3000 RGBA, 2 cores): PNG zlib level 1 (1.0 s, 12 MB; level 6
takes 3.7 s for 14% less), JPEG quality 95 without chroma subsampling (0.12 s:
cut-out edges stay crisp in colour), WebP quality 90 method 2 (1.3 s; method 4
takes 2.4 s for 2% less), TIFF LZW (0.5 s; deflate is 2.5x slower).
"""
from __future__ import annotations

import io

from PIL import Image

from rendering import photoshop
from rendering.options import OutputFormat

_RESOLUTION_UNIT_INCH = 2
# A TIFF's EXIF tags share the image's own IFD, and libtiff (the LZW writer) refuses
# a pointer to an EXIF sub-IFD: only these descriptive tags go into a TIFF.
# ImageDescription, Make, Model, Software, DateTime, Artist, Copyright.
_TIFF_EXIF_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)


def encode(
    image: Image.Image,
    fmt: OutputFormat,
    *,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
    resources: bytes = b"",
    exif: Image.Exif | None = None,
) -> bytes:
    """``image`` (RGB, RGBA, or L for a mask) as ``fmt``.

    ``resources`` (8BIM blocks) go into JPEG and TIFF; ``exif`` (the original's,
    see rendering.decode.carried_exif) into every format but the mask.
    """
    out = io.BytesIO()
    params: dict = {}
    if icc_profile and fmt is not OutputFormat.MASK:
        params["icc_profile"] = icc_profile
    if dpi and fmt is not OutputFormat.WEBP:
        params["dpi"] = dpi
    if fmt is OutputFormat.WEBP and dpi:
        exif = _with_resolution(exif, dpi)  # WebP has no DPI field of its own
    if fmt is OutputFormat.TIFF and exif:
        exif = _tiff_tags(exif)
    if exif and fmt is not OutputFormat.MASK:
        params["exif"] = exif
    if fmt in (OutputFormat.PNG, OutputFormat.MASK):
        image.save(out, "PNG", compress_level=1, **params)
    elif fmt is OutputFormat.JPG:
        image.save(out, "JPEG", quality=95, subsampling=0, **params)
    elif fmt is OutputFormat.WEBP:
        image.save(out, "WEBP", quality=90, method=2, **params)
    else:
        image.save(out, "TIFF", compression="tiff_lzw", **params)
    data = out.getvalue()
    if resources and fmt is OutputFormat.JPG:
        data = photoshop.embed_in_jpeg(data, resources)
    elif resources and fmt is OutputFormat.TIFF:
        data = photoshop.embed_in_tiff(data, resources)
    return data


def _tiff_tags(exif: Image.Exif) -> Image.Exif:
    kept = Image.Exif()
    for tag in _TIFF_EXIF_TAGS:
        if tag in exif:
            kept[tag] = exif[tag]
    return kept


def _with_resolution(exif: Image.Exif | None, dpi: tuple[float, float]) -> Image.Exif:
    merged = Image.Exif()
    if exif:
        merged.load(exif.tobytes())
    merged[282], merged[283], merged[296] = float(dpi[0]), float(dpi[1]), _RESOLUTION_UNIT_INCH
    return merged
