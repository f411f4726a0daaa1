"""Keep/remove markers: re-solve the mask near the operator's strokes with GrabCut.

GrabCut starts from the current mask (probably subject where it is >= 50%, probably background
elsewhere), with the strokes as certain subject (keep) or certain background (remove). Only pixels
within REACH of a stroke may change, and of the changes only those connected to a stroke are taken:
a stroke fixes the mistake it touches and never moves an edge elsewhere in the image. Big regions
are solved at a reduced size and the changed pixels scaled back up.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from masktools.strokes import Stroke, bounds, draw

# How far (px, at full size) from a stroke the mask may change, at least, and as a multiple of the
# brush radius: a stroke dabbed in a missed part should bring the whole part, not just the dab.
MIN_REACH_PX = 48
REACH_PER_RADIUS = 4
# Largest area GrabCut solves at full size; bigger regions are scaled down to it.
MAX_SOLVE_PIXELS = 1_000_000
# Fewest sure pixels of each side to learn a colour model from (GrabCut's models have 5 components).
MIN_SAMPLES = 50


def refine(image: np.ndarray, mask: np.ndarray, strokes: list[Stroke]) -> np.ndarray:
    if not strokes:
        return mask
    height, width = mask.shape
    reach = max(MIN_REACH_PX, REACH_PER_RADIUS * max(s.radius for s in strokes))
    x0, y0, x1, y1 = bounds(strokes, reach, (width, height))
    if x1 <= x0 or y1 <= y0:
        return mask
    scale = min(1.0, float(np.sqrt(MAX_SOLVE_PIXELS / ((x1 - x0) * (y1 - y0)))))
    small = (max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale)))
    crop_image = _resize(image[y0:y1, x0:x1], small, cv2.INTER_AREA)
    inside = _resize(mask[y0:y1, x0:x1], small, cv2.INTER_LINEAR) >= 128
    keep = draw(strokes, small, "keep", (x0, y0), scale)
    remove = draw(strokes, small, "remove", (x0, y0), scale)
    touched = keep | remove
    near = ndimage.distance_transform_edt(~touched) <= reach * scale

    solved = _grabcut(crop_image, inside, keep, remove, near)
    # Take only the flips that touch a stroke: the error the operator pointed at.
    flips, _count = ndimage.label(solved != inside)
    wanted = np.unique(flips[touched & (flips > 0)])
    changed = np.isin(flips, wanted) & (flips > 0)
    if not changed.any():
        return mask

    out = mask.copy()
    full = (y1 - y0, x1 - x0)
    changed_full = _resize(changed.astype(np.uint8) * 255, full, cv2.INTER_LINEAR) >= 128
    solved_full = _resize(solved.astype(np.uint8) * 255, full, cv2.INTER_LINEAR) >= 128
    region = out[y0:y1, x0:x1]
    region[changed_full] = np.where(solved_full[changed_full], 255, 0)
    # The strokes themselves are the operator's word, whatever the solver made of them.
    region[draw(strokes, full, "keep", (x0, y0))] = 255
    region[draw(strokes, full, "remove", (x0, y0))] = 0
    return out


def _grabcut(image: np.ndarray, inside: np.ndarray, keep: np.ndarray, remove: np.ndarray,
             near: np.ndarray) -> np.ndarray:
    labels = np.where(inside, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    # Away from the strokes the current mask stands: it also gives the colour models their samples.
    labels[~near & inside] = cv2.GC_FGD
    labels[~near & ~inside] = cv2.GC_BGD
    labels[keep] = cv2.GC_FGD
    labels[remove] = cv2.GC_BGD
    foreground = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if foreground.all() or not foreground.any():
        # GrabCut needs samples of both; with one side alone only the strokes can decide.
        return (foreground | keep) & ~remove
    # The colour models learn from the certain pixels only: learnt from the current mask's guesses
    # near the strokes as well, the subject's model would know the very colours a remove stroke marks.
    certain = np.isin(labels, (cv2.GC_FGD, cv2.GC_BGD))
    if min((labels == cv2.GC_FGD).sum(), (labels == cv2.GC_BGD).sum()) < MIN_SAMPLES:
        certain = np.ones_like(certain)  # too few sure pixels of one side: learn from the guesses too
    samples = np.ascontiguousarray(image[certain].reshape(-1, 1, 3))
    sample_labels = np.ascontiguousarray(labels[certain].reshape(-1, 1))
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(samples, sample_labels, None, bgd, fgd, 0, cv2.GC_INIT_WITH_MASK)
    cv2.grabCut(np.ascontiguousarray(image), labels, None, bgd, fgd, 1, cv2.GC_EVAL_FREEZE_MODEL)
    return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))


def _resize(array: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    if array.shape[:2] == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=interpolation)
