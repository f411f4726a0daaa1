"""Image -> draft mask pipeline: decode, run the model, size the mask back, save it.

Speed: numpy work happens only at model size; everything at the original size
(12 MP and up) is a single Pillow operation on an 8-bit image, and large JPEGs
are decoded at reduced scale (libjpeg DCT scaling) for the model and preview.
"""
from __future__ import annotations

import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageCms, ImageOps

from segmentation.upsample import GUIDE_MIN, upsample_mask

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")
PREVIEW_MAX = 1024
# A mask value counts as "decided" when within this of 0 or 1 (see mask_confidence).
DECIDED_MARGIN = 0.1
MASK_RESAMPLE = Image.Resampling.BICUBIC
CHECKER_PX = 16
FEATHER_PX = 6

_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90°
_SRGB = ImageCms.createProfile("sRGB")

Source = bytes | Path
Box = tuple[int, int, int, int]


class ImageDecodeError(ValueError):
    """The input is not an image we accept (format, damage, size); one-line message."""


class SupportsPredict(Protocol):
    input_size: int

    def predict(self, rgb: Image.Image) -> np.ndarray: ...


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # RGB, upright; may be smaller than original_size (JPEG draft)
    original_size: tuple[int, int]  # full size after EXIF orientation
    icc_profile: bytes | None  # the file's own profile, untouched
    source_mode: str  # Pillow mode as stored in the file, e.g. "CMYK", "I;16", "P"

    @property
    def reduced(self) -> bool:
        return self.image.size != self.original_size


@dataclass(frozen=True)
class Draft:
    mask: Image.Image  # "L", original size
    confidence: float
    inference_ms: float
    size: tuple[int, int]
    # The decoded (possibly reduced) RGB image and the model-size mask, kept so
    # save_draft neither decodes again nor shrinks the full-size mask.
    preview_base: Image.Image | None = field(default=None, repr=False, compare=False)
    model_mask: Image.Image | None = field(default=None, repr=False, compare=False)
    icc_profile: bytes | None = field(default=None, repr=False, compare=False)


# --- decoding --------------------------------------------------------------------


def decode_for_model(source: Source, target: int) -> DecodedImage:
    """Decode for a ``target``² model: upright RGB, large JPEGs decoded at reduced scale.

    Never below GUIDE_MIN, even for a smaller model: the same image guides the mask's upsampling.
    """
    return _decode(source, draft_to=max(target, GUIDE_MIN))


def decode_full(source: Source) -> DecodedImage:
    """Decode at full resolution: upright RGB (for cutouts and region re-runs)."""
    return _decode(source, draft_to=None)


def _decode(source: Source, draft_to: int | None) -> DecodedImage:
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        with Image.open(fp, formats=ALLOWED_FORMATS) as im:
            source_mode = im.mode
            icc = im.info.get("icc_profile") or None
            full = _upright_size(im)
            if draft_to and im.format == "JPEG":
                # Before load(): libjpeg then decodes at 1/2, 1/4 or 1/8 scale,
                # keeping both sides >= draft_to, so 12 MP is never fully decoded.
                im.draft("RGB", (draft_to, draft_to))
            upright = ImageOps.exif_transpose(im)
            rgb = _to_rgb(upright, icc)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image: {exc}") from None
    return DecodedImage(rgb, full, icc, source_mode)


def _upright_size(im: Image.Image) -> tuple[int, int]:
    w, h = im.size
    orientation = im.getexif().get(_ORIENTATION, 1)
    return (h, w) if orientation in _SWAPS_AXES else (w, h)


def _to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode == "CMYK":
        return _cmyk_to_rgb(im, icc)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _wide_grey_to_rgb(im)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info):
        # Transparent areas carry arbitrary colour (often black); composite on
        # white so the model sees what a viewer sees, on the background a
        # clipping path is usually delivered on.
        rgba = im.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return im.convert("RGB")  # L, 1, P, YCbCr, LAB, HSV


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    # With the file's CMYK profile we can get real colours; Pillow's plain
    # convert is a naive formula that washes out print-ready files.
    if icc and icc[16:20] == b"CMYK":
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(im, src, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            pass
    return im.convert("RGB")


def _wide_grey_to_rgb(im: Image.Image) -> Image.Image:
    # Pillow's convert("L") clips 16-bit values at 255 (a white image); scale instead.
    arr = np.asarray(im)
    if im.mode.startswith("I;16"):
        top = 65535.0
    else:  # "I" / "F" do not say their range: take the smallest usual one that fits
        peak = float(arr.max(initial=0))
        top = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
    grey = np.clip(arr.astype(np.float32) * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


# --- model -> mask ---------------------------------------------------------------


def make_draft(segmenter: SupportsPredict, source: Source) -> Draft:
    """Run the model on one image and return its mask at the image's original size."""
    decoded = decode_for_model(source, segmenter.input_size)
    start = time.perf_counter()
    probs = segmenter.predict(decoded.image)
    inference_ms = (time.perf_counter() - start) * 1000.0
    return Draft(
        mask=upsample_mask(probs, decoded.image, decoded.original_size),
        confidence=mask_confidence(probs),
        inference_ms=inference_ms,
        size=decoded.original_size,
        preview_base=decoded.image,
        model_mask=probs_to_mask(probs, None),
        icc_profile=decoded.icc_profile,
    )


def probs_to_mask(probs: np.ndarray, size: tuple[int, int] | None) -> Image.Image:
    """Float 0..1 mask at model size -> 8-bit "L" mask at ``size`` (None: keep model size)."""
    small = Image.fromarray((probs * 255.0 + 0.5).astype(np.uint8))
    # Bicubic is smooth across the 4-12x upscale without Lanczos' ringing halo.
    return small if size is None or small.size == size else small.resize(size, MASK_RESAMPLE)


def mask_confidence(probs: np.ndarray, margin: float = DECIDED_MARGIN) -> float:
    """How decided the mask is about the subject, 0..1.

    Undecided pixels are those not within ``margin`` of 0 or 1. Confidence is
    1 - undecided / (undecided + foreground): the share of the subject region
    the model is sure about. Dividing by the subject region rather than the
    whole image keeps a big clean background from hiding a mushy subject; a
    mask with no subject at all scores 0 (nothing found: a person must look).
    """
    undecided = int(np.count_nonzero((probs > margin) & (probs < 1.0 - margin)))
    foreground = int(np.count_nonzero(probs >= 1.0 - margin))
    region = undecided + foreground
    return 0.0 if region == 0 else 1.0 - undecided / region


# --- saving ----------------------------------------------------------------------


def save_draft(draft: Draft, source: Source, mask_path: Path, preview_path: Path) -> None:
    """Write the mask (lossless 8-bit PNG) and a checkerboard preview (JPEG, or WebP by suffix)."""
    _save_atomic(draft.mask, Path(mask_path), "PNG", compress_level=1)
    preview, fmt, params = _preview_of(draft, source, Path(preview_path).suffix)
    _save_atomic(preview, Path(preview_path), fmt, **params)


def encode_draft(draft: Draft, source: Source, preview_suffix: str = ".jpg") -> tuple[bytes, bytes]:
    """The mask and preview that save_draft writes, as bytes, for a caller that stores files itself."""
    preview, fmt, params = _preview_of(draft, source, preview_suffix)
    return encode_mask(draft.mask), _encoded(preview, fmt, **params)


def encode_mask(mask: Image.Image) -> bytes:
    """A mask as every version is stored: lossless 8-bit PNG, at the fastest compression (a mask is
    mostly long flat runs, which it packs nearly as well)."""
    return _encoded(mask, "PNG", compress_level=1)


def _encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _preview_of(draft: Draft, source: Source, suffix: str) -> tuple[Image.Image, str, dict]:
    base = draft.preview_base
    icc = draft.icc_profile
    if base is None:
        decoded = decode_for_model(source, PREVIEW_MAX)
        base, icc = decoded.image, decoded.icc_profile
    preview = make_preview(base, draft.mask, small_mask=draft.model_mask)
    fmt, params = _preview_format(suffix)
    rgb_icc = _rgb_icc(icc)
    if rgb_icc:
        params["icc_profile"] = rgb_icc  # keep colours as the customer's file intends
    return preview, fmt, params


def make_preview(
    rgb: Image.Image, mask: Image.Image, max_side: int = PREVIEW_MAX,
    small_mask: Image.Image | None = None,
) -> Image.Image:
    """The cutout on a grey/white checkerboard, longest side <= ``max_side``.

    ``small_mask`` (same content, any size, e.g. the model-size mask) is used
    for the alpha when given: shrinking a 12 MP mask costs more than the rest.
    """
    size = _fit(mask.size, max_side)
    alpha = small_mask if small_mask is not None else mask
    base = rgb if rgb.size == size else rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    alpha = alpha if alpha.size == size else alpha.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Image.composite(base, checkerboard(size), alpha)


def checkerboard(size: tuple[int, int], square: int = CHECKER_PX) -> Image.Image:
    w, h = size
    rows = (np.arange(h) // square) % 2
    cols = (np.arange(w) // square) % 2
    cells = np.where(rows[:, None] ^ cols[None, :], 204, 255).astype(np.uint8)
    return Image.fromarray(cells).convert("RGB")


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, max_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _preview_format(suffix: str) -> tuple[str, dict]:
    if suffix.lower() == ".webp":
        return "WEBP", {"quality": 82, "method": 2}
    return "JPEG", {"quality": 85}


def _rgb_icc(icc: bytes | None) -> bytes | None:
    # A CMYK or grey profile would mislabel the RGB pixels we write.
    return icc if icc and icc[16:20] == b"RGB " else None


def _save_atomic(image: Image.Image, path: Path, fmt: str, **params) -> None:
    """Save via a temp file + os.replace so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, fmt, **params)
        os.chmod(name, 0o644)  # mkstemp makes 0600; the web app may run as another user
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


# --- region re-run and cutout ------------------------------------------------------


def redraft_region(
    segmenter: SupportsPredict, source: Source, current_mask: Image.Image, roi: Box
) -> Image.Image:
    """Re-run the model on the box ``roi`` (original pixels) and blend the result in.

    Outside the box the mask is unchanged; inside, the new prediction takes over,
    ramping in over FEATHER_PX at box edges that lie inside the image so no seam shows.
    """
    decoded = decode_full(source)
    if current_mask.size != decoded.original_size:
        raise ValueError(f"mask is {current_mask.size}, image is {decoded.original_size}")
    box = _clamp_box(roi, decoded.original_size)
    crop = decoded.image.crop(box)
    fresh = upsample_mask(segmenter.predict(crop), crop, crop.size)
    old = np.asarray(current_mask.convert("L").crop(box), dtype=np.float32)
    weight = _feather_weights(box, decoded.original_size, FEATHER_PX)
    merged = old + (np.asarray(fresh, dtype=np.float32) - old) * weight
    out = current_mask.convert("L").copy()
    out.paste(Image.fromarray(np.clip(merged + 0.5, 0, 255).astype(np.uint8)), box[:2])
    return out


def _clamp_box(roi: Box, size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = (int(v) for v in roi)
    w, h = size
    box = (max(0, x0), max(0, y0), min(w, x1), min(h, y1))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"region {roi} is empty or outside the {w}x{h} image")
    return box


def _feather_weights(box: Box, size: tuple[int, int], feather: int) -> np.ndarray:
    """1 inside the box, ramping to ~0 over ``feather`` px at edges interior to the image."""
    x0, y0, x1, y1 = box
    w, h = size
    # Distance (px, +0.5 so the border pixel still moves a little) to each edge
    # that has old mask beyond it; image borders have nothing to blend with.
    dx = _edge_distance(x1 - x0, x0 > 0, x1 < w)
    dy = _edge_distance(y1 - y0, y0 > 0, y1 < h)
    dist = np.minimum(dy[:, None], dx[None, :])
    return np.clip(dist / max(feather, 1), 0.0, 1.0)


def _edge_distance(n: int, near_open: bool, far_open: bool) -> np.ndarray:
    pos = np.arange(n, dtype=np.float32)
    dist = np.full(n, np.inf, dtype=np.float32)
    if near_open:
        dist = np.minimum(dist, pos + 0.5)
    if far_open:
        dist = np.minimum(dist, n - pos - 0.5)
    return dist


def cutout(source: Source, mask: Image.Image) -> Image.Image:
    """The image at original size with ``mask`` as its alpha channel (RGBA)."""
    decoded = decode_full(source)
    if mask.size != decoded.original_size:
        raise ValueError(f"mask is {mask.size}, image is {decoded.original_size}")
    rgba = decoded.image.convert("RGBA")
    rgba.putalpha(mask.convert("L"))
    return rgba
