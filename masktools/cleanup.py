"""Cleanup of a mask: fill small holes, drop small islands, keep the largest parts, smooth, grow or shrink.

Every step decides on the 50% threshold. Fill, islands and keep-largest change only the pixels of
the components they fill or drop, so soft edges elsewhere stay exactly as they were. Smooth and
grow move the outline itself; the old soft ramp no longer fits the new outline, so the new edge
is drawn as a clean 1 px anti-aliased ramp (hair-fine softness is the matte tool's job).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# 8-connected parts: a subject joined only at a diagonal is still one part.
EIGHT = np.ones((3, 3), dtype=bool)
# How far past a dropped island its faint (below 50%) fringe is cleared too.
FRINGE_PX = 2
# Smooth and grow work tile by tile, only where the outline is near: tiles of at least this side.
TILE = 128
# scipy's gaussian_filter reaches int(TRUNCATE * sigma + 0.5) px (its default truncate).
TRUNCATE = 4.0


@dataclass(frozen=True)
class Cleanup:
    """What to do; None leaves that step out. Steps run in the order of the fields."""

    fill_holes: int | None = None  # fill background holes up to this area (px)
    remove_islands: int | None = None  # drop subject parts up to this area (px)
    keep_largest: int | None = None  # keep this many largest parts; 0 keeps all
    smooth: float | None = None  # smooth the outline over this radius (px)
    grow: float | None = None  # move the outline out (>0) or in (<0) by this many px


def clean(mask: np.ndarray, steps: Cleanup) -> np.ndarray:
    out = mask.copy()
    if steps.fill_holes:
        out = fill_holes(out, steps.fill_holes)
    if steps.remove_islands:
        out = remove_islands(out, steps.remove_islands)
    if steps.keep_largest:
        out = keep_largest(out, steps.keep_largest)
    if steps.smooth:
        out = smooth(out, steps.smooth)
    if steps.grow:
        out = grow(out, steps.grow)
    return out


def fill_holes(mask: np.ndarray, max_area: int) -> np.ndarray:
    inside = mask >= 128
    # The background not connected to the image border (4-connected, the dual of 8-connected parts).
    holes = ndimage.binary_fill_holes(inside) & ~inside
    labels, count = ndimage.label(holes)
    if not count:
        return mask
    small = np.bincount(labels.ravel()) <= max_area
    small[0] = False
    out = mask.copy()
    out[small[labels]] = 255
    return out


def remove_islands(mask: np.ndarray, max_area: int) -> np.ndarray:
    labels, sizes = _parts(mask)
    drop = sizes <= max_area
    drop[0] = False
    return _drop(mask, drop[labels])


def keep_largest(mask: np.ndarray, count: int) -> np.ndarray:
    labels, sizes = _parts(mask)
    if len(sizes) - 1 <= count:
        return mask
    order = np.argsort(sizes[1:])[::-1] + 1  # part labels, largest first
    drop = np.ones(len(sizes), dtype=bool)
    drop[0] = False
    drop[order[:count]] = False
    return _drop(mask, drop[labels])


def smooth(mask: np.ndarray, radius: float) -> np.ndarray:
    """Blur the binary mask and take its 50% level: bumps and dents smaller than ~radius go."""
    sigma = radius / 2
    # The blurred step rises 1/(sqrt(2 pi) sigma) per px at its middle; stretch it to a 1 px ramp.
    steepness = max(1.0, np.sqrt(2 * np.pi) * sigma)

    def ramp(inside: np.ndarray) -> np.ndarray:
        blurred = ndimage.gaussian_filter(inside.astype(np.float32), sigma, truncate=TRUNCATE)
        return (blurred - 0.5) * steepness + 0.5

    return _near_outline(mask >= 128, int(TRUNCATE * sigma + 0.5), ramp)


def grow(mask: np.ndarray, distance: float) -> np.ndarray:
    """Move the 50% outline out by `distance` px (in when negative), via the signed distance to it."""
    # A pixel off the 0/255 levels is within |distance| + 1 px of the outline, and so is the
    # outline pixel nearest it: a margin of |distance| + 2 px sees it.
    return _near_outline(mask >= 128, int(np.ceil(abs(distance))) + 2,
                         lambda inside: signed_distance(inside) + distance + 0.5)


def signed_distance(inside: np.ndarray) -> np.ndarray:
    """Distance to the outline between pixel centres: +0.5 on the subject's edge pixels, -0.5 just outside."""
    if inside.all():
        return np.full(inside.shape, np.inf, dtype=np.float32)
    if not inside.any():
        return np.full(inside.shape, -np.inf, dtype=np.float32)
    d_in = ndimage.distance_transform_edt(inside)
    d_out = ndimage.distance_transform_edt(~inside)
    return np.where(inside, d_in - 0.5, 0.5 - d_out).astype(np.float32)


def _near_outline(inside: np.ndarray, reach: int, alpha) -> np.ndarray:
    """alpha(inside) (0..1, clipped) as uint8, computed only in tiles whose surroundings within `reach`
    px hold both subject and background: each on its tile grown by `reach`, which is all a pixel's
    value depends on, so the result is the whole image's. Every other pixel is 255 or 0 as it was."""
    out = np.where(inside, np.uint8(255), np.uint8(0))
    height, width = inside.shape
    tile = max(TILE, 4 * reach)  # a tile's work is (tile + 2 reach)²: keep that near its own area
    # Subject pixels in any box from a summed-area table: count(y0:y1, x0:x1) in four look-ups.
    table = np.zeros((height + 1, width + 1), np.int32)  # 25 MP at most: int32 holds any count
    np.cumsum(inside, axis=0, dtype=np.int32, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    ty = np.arange(0, height, tile)
    tx = np.arange(0, width, tile)
    y0, y1 = np.maximum(ty - reach, 0)[:, None], np.minimum(ty + tile + reach, height)[:, None]
    x0, x1 = np.maximum(tx - reach, 0)[None, :], np.minimum(tx + tile + reach, width)[None, :]
    count = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
    mixed = (count > 0) & (count < (y1 - y0) * (x1 - x0))
    for i, j in zip(*np.nonzero(mixed), strict=True):
        cy0, cy1, cx0, cx1 = int(y0[i, 0]), int(y1[i, 0]), int(x0[0, j]), int(x1[0, j])
        top, left = int(ty[i]), int(tx[j])
        bottom, right = min(top + tile, height), min(left + tile, width)
        values = alpha(inside[cy0:cy1, cx0:cx1])
        out[top:bottom, left:right] = _to_uint8(values[top - cy0:bottom - cy0, left - cx0:right - cx0])
    return out


def _parts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, _count = ndimage.label(mask >= 128, structure=EIGHT)
    return labels, np.bincount(labels.ravel())


def _drop(mask: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    if not dropped.any():
        return mask
    out = mask.copy()
    # The faint fringe just outside a dropped part would stay behind as a ghost outline.
    fringe = ndimage.binary_dilation(dropped, iterations=FRINGE_PX) & (mask < 128)
    out[dropped | fringe] = 0
    return out


def _to_uint8(alpha: np.ndarray) -> np.ndarray:
    return (np.clip(alpha, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
