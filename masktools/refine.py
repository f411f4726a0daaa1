"""Keep/remove markers: re-solve the mask near the operator's strokes with a graph cut.

Where the mask may change: within REACH of a stroke, and along the draft's outline (within BAND px
of its 50% level) as far as that band runs on from the stroke, so a point marker on a rim the model
missed all round fixes the whole rim. Every other pixel keeps the draft's word. The free pixels get
a graph cut (PyMaxflow): each pixel's cost is the colour evidence (colour histograms of the fixed
subject and background around it, each half made of the strokes' own colours, since a stroke says
"this colour is subject" or "is background") plus the draft's probability, and neighbours of
similar colour pay to be cut apart. Of the pixels that flip, only those connected to a stroke are
taken: a stroke fixes the mistake it touches and never moves an edge elsewhere.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import maxflow
import numpy as np
from scipy import ndimage

from masktools.strokes import Stroke, bounds, draw

# How far (px, at full size) from a stroke the mask may change, at least, and as a multiple of the
# brush radius: a stroke dabbed in a missed part should bring the whole part, not just the dab.
MIN_REACH_PX = 48
REACH_PER_RADIUS = 4
# How far from the draft's outline (px, at least, or the brush radius) a mistake along it may be
# fixed by a stroke anywhere on it: a thin rim or a seam the model cut short.
MIN_BAND_PX = 8
# Most free pixels solved at full size; more (a huge stroke) are solved scaled down.
MAX_FREE_PIXELS = 2_000_000

# A window of the image (scaled when needed) with the draft and the strokes drawn into it.
Solver = Callable[["Window"], np.ndarray]


@dataclass(frozen=True)
class Window:
    image: np.ndarray  # h x w x 3 uint8
    prob: np.ndarray  # h x w float32, the draft's subject probability 0..1
    keep: np.ndarray  # h x w bool, keep strokes
    remove: np.ndarray  # h x w bool, remove strokes
    free: np.ndarray  # h x w bool, the pixels the solver may decide; the rest keep the draft


def refine(image: np.ndarray, mask: np.ndarray, strokes: list[Stroke], solve: Solver | None = None) -> np.ndarray:
    """The mask re-solved from the strokes; `solve` defaults to the graph cut (others are for the bench)."""
    if not strokes:
        return mask
    radius = max(s.radius for s in strokes)
    reach, band = max(MIN_REACH_PX, REACH_PER_RADIUS * radius), max(MIN_BAND_PX, radius)
    height, width = mask.shape
    # The distance transform's L2 is a 5x5 chamfer, up to 1% short of the true distance.
    x0, y0, x1, y1 = bounds(strokes, reach + reach // 64 + 2, (width, height))
    if x0 >= x1 or y0 >= y1 or not (touched := _draw(strokes, (y0, y1, x0, x1))).any():
        return mask  # strokes wholly off the image
    near = (y0, y1, x0, x1)
    area = _area(mask, near, band)
    ys, xs = np.nonzero(_free(mask, area, near, touched, reach, band))
    ys, xs = ys + area[0], xs + area[2]
    margin = 2 * MIN_BAND_PX  # fixed pixels around the free ones: the colour samples
    y0, y1 = max(0, ys.min() - margin), min(height, ys.max() + margin + 1)
    x0, x1 = max(0, xs.min() - margin), min(width, xs.max() + margin + 1)
    free_full = np.zeros((y1 - y0, x1 - x0), bool)
    free_full[ys - y0, xs - x0] = True
    keep_full, remove_full = _draw(strokes, (y0, y1, x0, x1), "keep"), _draw(strokes, (y0, y1, x0, x1), "remove")
    scale = min(1.0, float(np.sqrt(MAX_FREE_PIXELS / len(ys))))
    small = (max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale)))
    window = Window(
        image=_resize(image[y0:y1, x0:x1], small, cv2.INTER_AREA),
        prob=_resize(mask[y0:y1, x0:x1], small, cv2.INTER_LINEAR).astype(np.float32) / 255,
        keep=_resize_bool(keep_full, small),
        remove=_resize_bool(remove_full, small),
        free=_resize_bool(free_full, small),
    )
    inside = window.prob >= 0.5
    solved = np.where(window.free, (solve or graph_cut)(window), inside)
    solved = (solved | window.keep) & ~window.remove
    # Take only the flips that touch a stroke: the error the operator pointed at.
    count, flips = cv2.connectedComponents((solved != inside).astype(np.uint8), connectivity=4)
    changed = _touching(flips, count, flips[window.keep | window.remove])
    out = mask.copy()
    region = out[y0:y1, x0:x1]
    if changed.any():
        full = (y1 - y0, x1 - x0)
        changed_full = _resize_bool(changed, full)
        solved_full = _resize_bool(solved, full)
        region[changed_full] = np.where(solved_full[changed_full], 255, 0)
    # The strokes themselves are the operator's word, whatever the solver made of them.
    region[keep_full] = 255
    region[remove_full] = 0
    return out


# A box of the image: y0, y1, x0, x1.
Box = tuple[int, int, int, int]


def _area(mask: np.ndarray, near: Box, band: int) -> Box:
    """A box holding every pixel that may be free, so that the full-size passes run on it alone: the
    strokes' reach (`near`), and the draft's outline band, which lies within the band of both the
    subject's and the background's bounding boxes."""
    height, width = mask.shape
    y0, y1, x0, x1 = near
    _, inside = cv2.threshold(mask, 127, 1, cv2.THRESH_BINARY)
    sx, sy, sw, sh = cv2.boundingRect(inside)
    bx, by, bw, bh = cv2.boundingRect(1 - inside)
    ox0, oy0 = max(sx, bx) - band, max(sy, by) - band
    ox1, oy1 = min(sx + sw, bx + bw) + band, min(sy + sh, by + bh) + band
    if sw and bw and ox0 < ox1 and oy0 < oy1:
        x0, y0, x1, y1 = min(x0, max(0, ox0)), min(y0, max(0, oy0)), max(x1, min(width, ox1)), max(y1, min(height, oy1))
    return y0, y1, x0, x1


def _draw(strokes: list[Stroke], box: Box, mode: str | None = None) -> np.ndarray:
    """The strokes (of `mode`, or all) in `box`, pixel for pixel as drawn full size: the offset is
    kept even because draw rounds half pixels to even, which an even shift leaves alone."""
    y0, y1, x0, x1 = box
    ey, ex = y0 % 2, x0 % 2
    return draw(strokes, (y1 - y0 + ey, x1 - x0 + ex), mode, offset=(x0 - ex, y0 - ey))[ey:, ex:]


def _free(mask: np.ndarray, area: Box, near: Box, touched: np.ndarray, reach: int, band: int) -> np.ndarray:
    """In `area`: within `reach` of the strokes (`touched`, drawn in the `near` box inside the area), plus
    the band along the draft's outline where it runs on from there."""
    free = _outline(mask, area, band)
    inner = np.s_[near[0] - area[0]:near[1] - area[0], near[2] - area[2]:near[3] - area[2]]
    free[inner] |= cv2.distanceTransform((~touched).astype(np.uint8), cv2.DIST_L2, 5) <= reach
    count, parts = cv2.connectedComponents(free.astype(np.uint8), connectivity=8)
    return _touching(parts, count, parts[inner][touched])


def _outline(mask: np.ndarray, area: Box, band: int) -> np.ndarray:
    """In `area`: within `band` of the draft's 50% level, worked out on the area grown by the band so
    that its edges see what lies beyond them."""
    height, width = mask.shape
    y0, y1, x0, x1 = area
    py0, py1, px0, px1 = max(0, y0 - band), min(height, y1 + band), max(0, x0 - band), min(width, x1 + band)
    mask8 = (mask[py0:py1, px0:px1] >= 128).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    outline = cv2.dilate(mask8, kernel) > cv2.erode(mask8, kernel)
    return outline[y0 - py0:y1 - py0, x0 - px0:x1 - px0]


def _touching(labels: np.ndarray, count: int, seeds: np.ndarray) -> np.ndarray:
    """The parts (`count` labels, 0 is no part) whose labels are among the `seeds`."""
    wanted = np.zeros(count, bool)
    wanted[seeds] = True
    wanted[0] = False
    return wanted[labels]


# --- the graph cut ---------------------------------------------------------------------------
# Colour histograms: bins per channel, and their blur (in bins) so nearby colours count as alike.
BINS = 32
BIN_BLUR = 1.0
# The colour evidence per pixel, clipped (log odds), and the weight of the draft's own log odds.
COLOUR_CLIP = 6.0
DRAFT_WEIGHT = 0.5
# The draft's probability is trusted at most this far towards 0 or 1.
DRAFT_CLIP = 0.05
# What cutting between two neighbours of the same colour costs (log odds units).
SMOOTHNESS = 10.0
# The strokes' share of each colour model, when there are strokes of that kind.
STROKE_SHARE = 0.5
CERTAIN = 1e9


def graph_cut(window: Window) -> np.ndarray:
    """The free pixels labelled by a min cut; only they and their neighbours are looked at, apart from
    the colour histograms, which count every fixed pixel of the window."""
    free = window.free
    inside = window.prob >= 0.5
    nodes = np.flatnonzero(free)  # node i is window pixel nodes[i] (row-major)
    codes = _colour_codes(window.image).ravel()
    # Both sides' counts in one pass: code * 2 + 1 for the subject, code * 2 for the background.
    side_codes = codes.astype(np.int32) * 2 + inside.ravel()
    fixed_counts = np.bincount(side_codes, minlength=2 * BINS ** 3)
    fixed_counts -= np.bincount(side_codes[nodes], minlength=2 * BINS ** 3)
    subject = _histogram(fixed_counts[1::2], _counts(codes, stroke_core(window.keep)))
    background = _histogram(fixed_counts[::2], _counts(codes, stroke_core(window.remove)))
    code = codes[nodes]
    colour = np.clip(np.log(subject[code] + 1e-6) - np.log(background[code] + 1e-6), -COLOUR_CLIP, COLOUR_CLIP)
    prob = np.clip(window.prob.ravel()[nodes], DRAFT_CLIP, 1 - DRAFT_CLIP)
    favour = colour + DRAFT_WEIGHT * np.log(prob / (1 - prob))  # > 0: subject
    cost_subject = np.maximum(-favour, 0)  # what labelling the pixel subject costs
    cost_background = np.maximum(favour, 0)
    cost_subject[window.remove.ravel()[nodes]] = CERTAIN
    cost_background[window.keep.ravel()[nodes]] = CERTAIN

    ids = np.full(free.size, -1, np.int64)
    ids[nodes] = np.arange(len(nodes))
    graph = maxflow.Graph[float]()
    graph.add_nodes(len(nodes))
    pairs = _neighbour_pairs(free)
    squared = [_squared_difference(window.image, a, b) for a, b in pairs]
    beta = 1.0 / (2 * max(float(np.mean(np.concatenate(squared))), 1e-6))
    flat_inside = inside.ravel()
    for (a, b), sq in zip(pairs, squared, strict=True):
        weight = SMOOTHNESS * np.exp(-beta * sq)
        ia, ib = ids[a], ids[b]
        both = (ia >= 0) & (ib >= 0)
        graph.add_edges(ia[both], ib[both], weight[both], weight[both])
        # A free pixel beside a fixed one pays for disagreeing with it. A pixel has one neighbour on
        # each side, so within one side no node comes twice and a plain += adds them all.
        for here, there, fixed_inside in ((ia, ib, flat_inside[b]), (ib, ia, flat_inside[a])):
            edge = (here >= 0) & (there < 0)
            cost_background[here[edge]] += weight[edge] * fixed_inside[edge]
            cost_subject[here[edge]] += weight[edge] * ~fixed_inside[edge]
    graph.add_grid_tedges(np.arange(len(nodes)), cost_background, cost_subject)
    graph.maxflow()
    out = inside.copy()
    out[free] = ~graph.get_grid_segments(np.arange(len(nodes)))
    return out


def _neighbour_pairs(free: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Flat indices (a, b) of the horizontal, then the vertical neighbours of which either is free, row-major."""
    width = free.shape[1]
    ys, xs = np.nonzero(free[:, :-1] | free[:, 1:])
    across = ys * width + xs
    ys, xs = np.nonzero(free[:-1] | free[1:])
    down = ys * width + xs
    return [(across, across + 1), (down, down + width)]


def _squared_difference(image: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared colour distance of pixels a and b (flat indices); in integers, so exact in float32.
    (np.take, in place, channels added by hand: four times as fast as indexing and .sum(-1).)"""
    pixels = image.reshape(-1, 3)
    difference = np.take(pixels, a, axis=0).astype(np.int32)
    difference -= np.take(pixels, b, axis=0)
    difference *= difference
    return (difference[:, 0] + difference[:, 1] + difference[:, 2]).astype(np.float32)


def stroke_core(stroke: np.ndarray) -> np.ndarray:
    """The middle of the strokes, where the operator aimed: a small brush on an edge also covers the
    other side's colour, which must not teach the model that that colour is what the stroke says."""
    if not stroke.any():
        return stroke
    # Worked out in the strokes' box: the pixels around it are not stroke, as beyond the window.
    ys, xs = np.nonzero(stroke)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    depth = cv2.distanceTransform(np.pad(stroke[y0:y1, x0:x1], 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    core = np.zeros_like(stroke)
    core[y0:y1, x0:x1] = depth >= max(1.0, float(depth.max()) / 2)
    return core


def _colour_codes(image: np.ndarray) -> np.ndarray:
    q = (image // (256 // BINS)).astype(np.uint16)  # BINS ** 3 codes fit 16 bits
    return (q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]


def _counts(codes: np.ndarray, where: np.ndarray) -> np.ndarray:
    return np.bincount(codes[where.ravel()], minlength=BINS ** 3)


def _histogram(fixed: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """P(colour) of one side from its colour counts, the fixed pixels and the strokes each weighing
    STROKE_SHARE, or all when the other has none."""
    def density(counts: np.ndarray) -> np.ndarray:
        counts = ndimage.gaussian_filter(counts.astype(np.float32).reshape(BINS, BINS, BINS), BIN_BLUR).ravel()
        return counts / max(float(counts.sum()), 1e-9)
    if not strokes.any():
        return density(fixed)
    if not fixed.any():
        return density(strokes)
    return (1 - STROKE_SHARE) * density(fixed) + STROKE_SHARE * density(strokes)


def _resize(array: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    if array.shape[:2] == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=interpolation)


def _resize_bool(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if array.shape == shape:
        return array
    return _resize(array.astype(np.uint8) * 255, shape, cv2.INTER_LINEAR) >= 128
