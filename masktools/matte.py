"""Edge matting: soft alpha for hair and fur inside a band the operator brushes along the edge.

The band is the unknown region of a trimap; outside it the current mask, taken at 50%, is the
known subject and background. Closed-form matting (Levin et al., via pymatting) solves the band
from the colours around it. Pixels outside the band are returned exactly as they were.
"""
from __future__ import annotations

import cv2
import numpy as np
from pymatting import estimate_alpha_cf

from masktools.strokes import Stroke, bounds, draw

# Largest crop matted at full size; bigger bands are solved scaled down and their alpha scaled up.
MAX_MATTE_PIXELS = 1_000_000


def matte_band(image: np.ndarray, mask: np.ndarray, band_stroke: Stroke) -> np.ndarray:
    height, width = mask.shape
    # Known pixels a brush-width beyond the band give the solver its colours on both sides.
    x0, y0, x1, y1 = bounds([band_stroke], band_stroke.radius + 2, (width, height))
    if x1 <= x0 or y1 <= y0:
        return mask
    band = draw([band_stroke], (y1 - y0, x1 - x0), offset=(x0, y0))
    crop = mask[y0:y1, x0:x1]
    known_inside = (crop >= 128) & ~band
    known_outside = (crop < 128) & ~band
    if not band.any() or not known_inside.any() or not known_outside.any():
        return mask  # a band with no subject or no background beside it has nothing to decide
    trimap = np.where(band, 0.5, known_inside.astype(np.float64))
    rgb = image[y0:y1, x0:x1].astype(np.float64) / 255
    scale = min(1.0, float(np.sqrt(MAX_MATTE_PIXELS / trimap.size)))
    if scale < 1.0:
        small = (max(2, round(trimap.shape[1] * scale)), max(2, round(trimap.shape[0] * scale)))
        alpha = estimate_alpha_cf(cv2.resize(rgb, small, interpolation=cv2.INTER_AREA),
                                  cv2.resize(trimap, small, interpolation=cv2.INTER_NEAREST))
        alpha = cv2.resize(alpha, (trimap.shape[1], trimap.shape[0]), interpolation=cv2.INTER_LINEAR)
    else:
        alpha = estimate_alpha_cf(rgb, trimap)
    out = mask.copy()
    region = out[y0:y1, x0:x1]
    region[band] = (np.clip(alpha[band], 0, 1) * 255 + 0.5).astype(np.uint8)
    return out
