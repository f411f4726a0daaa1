"""Brush strokes in original-image pixels, drawn into boolean maps."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Stroke:
    mode: str  # "keep" or "remove" (the matte tool ignores it)
    radius: int  # brush radius, px
    points: tuple[tuple[float, float], ...]  # x, y along the stroke


def draw(strokes: list[Stroke], shape: tuple[int, int], mode: str | None = None,
         offset: tuple[int, int] = (0, 0), scale: float = 1.0) -> np.ndarray:
    """The pixels the strokes (of `mode`, or all) cover, in a `shape` map whose (0, 0) is image
    pixel `offset` (x, y), the image scaled by `scale`."""
    canvas = np.zeros(shape, np.uint8)
    for stroke in strokes:
        if mode is not None and stroke.mode != mode:
            continue
        points = np.array([[(x - offset[0]) * scale, (y - offset[1]) * scale] for x, y in stroke.points])
        points = np.round(points).astype(np.int32).reshape(-1, 1, 2)
        radius = max(1, round(stroke.radius * scale))
        # A single point is a dot; polylines with round ends otherwise.
        for x, y in points[:, 0]:
            cv2.circle(canvas, (int(x), int(y)), radius, 1, -1)
        if len(points) > 1:
            cv2.polylines(canvas, [points], False, 1, thickness=2 * radius + 1, lineType=cv2.LINE_8)
    return canvas.astype(bool)


def bounds(strokes: list[Stroke], margin: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) around every stroke, each grown by its radius and `margin`, inside the image."""
    width, height = size
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for stroke in strokes:
        reach = stroke.radius + margin
        for x, y in stroke.points:
            x0, y0, x1, y1 = min(x0, x - reach), min(y0, y - reach), max(x1, x + reach), max(y1, y + reach)
    return max(0, int(x0)), max(0, int(y0)), min(width, int(np.ceil(x1)) + 1), min(height, int(np.ceil(y1)) + 1)
