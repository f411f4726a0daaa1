"""Where the subject goes: crop, margin, scale, position, canvas and max_size as one plan.

All of them reduce to a single scale and offset from the original's pixels to
the output canvas, so the image is resampled at most once whatever the
options, and not at all when only cropping or moving.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from rendering.options import CENTER, Position, RenderOptions

Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)

# Alpha below this (about 4%) is not subject when finding its bounding box,
# so faint specks far from the subject do not stretch the crop.
SUBJECT_MIN_ALPHA = 10


@dataclass(frozen=True)
class Layout:
    canvas: tuple[int, int]
    scale: float  # output pixels per original pixel
    offset: tuple[float, float]  # where the original's top-left corner lands on the canvas
    subject: Box | None  # the subject's box on the canvas (for sizing the shadow)

    @property
    def is_identity(self) -> bool:
        return self.scale == 1 and self.offset == (0, 0)


def subject_box(alpha: Image.Image) -> Box | None:
    return alpha.point(lambda v: 255 if v >= SUBJECT_MIN_ALPHA else 0).getbbox()


def plan(size: tuple[int, int], subject: Box | None, options: RenderOptions) -> Layout:
    content = _content_box(size, subject, options)
    canvas = options.canvas or (content[2] - content[0], content[3] - content[1])
    position = options.subject_position
    if options.scale is not None and subject is not None:
        sw, sh = subject[2] - subject[0], subject[3] - subject[1]
        scale = options.scale / 100.0 * min(canvas[0] / sw, canvas[1] / sh)
        anchor = subject
    elif options.canvas is not None:
        cw, ch = content[2] - content[0], content[3] - content[1]
        scale, anchor, position = min(canvas[0] / cw, canvas[1] / ch), content, position or CENTER
    else:
        scale = 1.0
        anchor = subject if position is not None and subject is not None else content
    if position is None:  # "original": the content's corner at the canvas's corner
        offset = (-content[0] * scale, -content[1] * scale)
    else:
        offset = _offset(anchor, scale, canvas, position)
    canvas, scale, offset = _limit(canvas, scale, offset, options.max_size)
    if scale == 1:
        offset = (float(round(offset[0])), float(round(offset[1])))  # whole pixels: no resampling
    return Layout(canvas, scale, offset, _map_box(subject, scale, offset))


def _content_box(size: tuple[int, int], subject: Box | None, options: RenderOptions) -> Box:
    """What the canvas shows before any canvas/scale: the crop (subject + margin) or the whole image."""
    if not options.crop or subject is None:
        return (0, 0, size[0], size[1])
    x0, y0, x1, y1 = subject
    mx = round(options.crop_margin.pixels(x1 - x0))
    my = round(options.crop_margin.pixels(y1 - y0))
    return (x0 - mx, y0 - my, x1 + mx, y1 + my)


def _offset(anchor: Box, scale: float, canvas: tuple[int, int], position: Position) -> tuple[float, float]:
    # Like CSS background-position: X% puts the anchor's X% point on the canvas's X% point.
    free_x = canvas[0] - (anchor[2] - anchor[0]) * scale
    free_y = canvas[1] - (anchor[3] - anchor[1]) * scale
    return (position.x * free_x - anchor[0] * scale, position.y * free_y - anchor[1] * scale)


def _limit(canvas: tuple[int, int], scale: float, offset: tuple[float, float], max_size: int | None):
    longest = max(canvas)
    if max_size is None or longest <= max_size:
        return canvas, scale, offset
    k = max_size / longest
    new_canvas = (max(1, round(canvas[0] * k)), max(1, round(canvas[1] * k)))
    return new_canvas, scale * k, (offset[0] * k, offset[1] * k)


def _map_box(box: Box | None, scale: float, offset: tuple[float, float]) -> Box | None:
    if box is None:
        return None
    return tuple(round(v * scale + offset[i % 2]) for i, v in enumerate(box))  # type: ignore[return-value]


def place(image: Image.Image, layout: Layout, resample: Image.Resampling, fill: int | tuple = 0) -> Image.Image:
    """``image`` drawn on a ``layout.canvas``-sized image of ``fill``, by the layout's scale and offset."""
    if layout.is_identity and image.size == layout.canvas:
        return image
    width, height = image.size
    s, (ox, oy) = layout.scale, layout.offset
    cw, ch = layout.canvas
    left, top = max(0, round(ox)), max(0, round(oy))
    right, bottom = min(cw, round(ox + s * width)), min(ch, round(oy + s * height))
    canvas = Image.new(image.mode, layout.canvas, fill)
    if right <= left or bottom <= top:
        return canvas
    if s == 1:
        part = image.crop((left - int(ox), top - int(oy), right - int(ox), bottom - int(oy)))
    else:
        box = (
            max(0.0, (left - ox) / s), max(0.0, (top - oy) / s),
            min(float(width), (right - ox) / s), min(float(height), (bottom - oy) / s),
        )
        # reducing_gap: a big reduction first averages whole pixel blocks (fast), then
        # resamples the rest of the way; the result is indistinguishable at gap 3.
        part = image.resize((right - left, bottom - top), resample, box=box, reducing_gap=3.0)
    canvas.paste(part, (left, top))
    return canvas
