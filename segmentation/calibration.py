"""Photo-like product shots made from a seed: what int8 calibration runs the model on.

Static quantisation fixes every activation's range from the values the model shows on a
calibration set, so the set must look like the work (a product on a studio or busy
background, lit, with sensor grain) and must be exactly reproducible: the same seed gives
the same pixels on every machine (numpy's PCG64 and Pillow's drawing are deterministic),
hence the same ranges and the same quantised file. Nothing is downloaded.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw

SUBJECTS = ("ellipse", "bottle", "shoe", "box", "blob")
BACKGROUNDS = ("white", "grey", "gradient", "noise", "photo")


def product_shot(index: int, size: tuple[int, int] = (800, 600), seed: int = 0) -> tuple[Image.Image, Image.Image]:
    """The ``index``-th shot of the set ``seed``: (RGB picture, exact "L" mask of the subject)."""
    rng = np.random.default_rng([seed, index])
    subject_kind = SUBJECTS[index % len(SUBJECTS)]
    background_kind = BACKGROUNDS[(index // len(SUBJECTS) + index) % len(BACKGROUNDS)]
    mask = subject_mask(subject_kind, size, rng)
    picture = background(background_kind, size, rng)
    picture.paste(shaded(mask, rng), mask=mask)
    return picture, mask


def product_shots(count: int, size: tuple[int, int] = (800, 600), seed: int = 0) -> Iterator[Image.Image]:
    for index in range(count):
        yield product_shot(index, size, seed)[0]


def subject_mask(kind: str, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.4, 0.6)
    rx, ry = w * rng.uniform(0.15, 0.3), h * rng.uniform(0.2, 0.35)
    if kind == "ellipse":
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    elif kind == "bottle":
        draw.rounded_rectangle((cx - rx * 0.6, cy - ry * 0.4, cx + rx * 0.6, cy + ry), rx * 0.3, fill=255)
        draw.rectangle((cx - rx * 0.2, cy - ry, cx + rx * 0.2, cy - ry * 0.3), fill=255)
    elif kind == "shoe":
        draw.rounded_rectangle((cx - rx, cy, cx + rx, cy + ry * 0.6), ry * 0.25, fill=255)
        draw.polygon([(cx - rx * 0.9, cy + 5), (cx - rx * 0.3, cy - ry), (cx + rx * 0.2, cy - ry * 0.9),
                      (cx + rx * 0.3, cy + 5)], fill=255)
    elif kind == "box":
        draw.polygon([(cx - rx, cy - ry * 0.6), (cx + rx * 0.4, cy - ry), (cx + rx, cy - ry * 0.3),
                      (cx + rx * 0.8, cy + ry), (cx - rx * 0.9, cy + ry * 0.8)], fill=255)
    else:  # blob: a star-ish polygon with random radii
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        radii = rng.uniform(0.6, 1.0, angles.size)
        points = [(cx + rx * r * np.cos(a), cy + ry * r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
        draw.polygon(points, fill=255)
    return mask


def shaded(mask: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A colour lit from the upper left with grain, over the whole frame (pasted through ``mask``)."""
    w, h = mask.size
    ys, xs = np.nonzero(np.asarray(mask))
    cx, cy = xs.mean(), ys.mean()
    r = max(np.ptp(xs), np.ptp(ys), 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.clip(1.1 - np.hypot(xx - cx + 0.3 * r, yy - cy + 0.3 * r) / (1.6 * r), 0.15, 1.0)
    colour = rng.uniform(20, 235, 3).astype(np.float32)
    grain = rng.normal(0, 8, (h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(colour * light[..., None] + grain, 0, 255).astype(np.uint8))


def background(kind: str, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    w, h = size
    if kind == "white":
        return Image.new("RGB", size, tuple(int(v) for v in rng.integers(235, 256, 3)))
    if kind == "grey":
        return Image.new("RGB", size, tuple(int(v) for v in rng.integers(110, 190, 3)))
    if kind == "gradient":
        ramp = np.broadcast_to(np.linspace(rng.uniform(30, 90), rng.uniform(180, 240), w, dtype=np.float32), (h, w))
        tint = rng.uniform(0.7, 1.0, 3).astype(np.float32)
        return Image.fromarray((ramp[..., None] * tint).astype(np.uint8))
    if kind == "noise":
        blobs = rng.normal(200, 25, (h // 8, w // 8, 3)).clip(0, 255).astype(np.uint8)
        return Image.fromarray(blobs).resize(size, Image.Resampling.BICUBIC)
    # photo: smooth colour regions plus sensor-like grain (as bench/segment.py's photo_like_jpeg)
    coarse = Image.fromarray(rng.integers(0, 256, (h // 24 + 1, w // 24 + 1, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-6, 7, (h, w, 1), dtype=np.int16)
    return Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8))
