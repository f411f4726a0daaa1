"""Render the final image of an order from its original, its approved mask and the template.

The order of work: decode upright; plan crop/scale/position/canvas as one
transform; place the mask and the image on the canvas (one resample at most);
feather; colour-manage and decontaminate the canvas, not the original (it is
usually smaller); shadow; lay everything on the background; encode; trace and
embed the clipping path from the mask exactly as placed, so the path and the
output pixels agree.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from rendering import decode, edges, geometry, photoshop, watermark
from rendering.clipping_path import ClippingPath, photoshop_resources, to_svg, trace
from rendering.encode import encode
from rendering.options import Background, OutputFormat, RenderOptions

WHITE = (255, 255, 255, 255)


class RenderError(Exception):
    """The order cannot be rendered (unreadable input, missing background image); the message says why."""


@dataclass(frozen=True)
class RenderedImage:
    data: bytes
    mime_type: str
    extension: str
    width: int
    height: int
    mask: Image.Image  # "L", the subject's alpha as placed on the output canvas
    clipping_path: ClippingPath | None  # traced from ``mask`` when the template asks for one

    def svg(self) -> str | None:
        return None if self.clipping_path is None else to_svg(self.clipping_path)


def render(
    original: bytes | Path,
    mask: Image.Image | bytes | Path,
    options: RenderOptions,
    background_image: bytes | None = None,
    *,
    stamp: str | None = None,
) -> RenderedImage:
    """The final image at full resolution, as ``options`` say; `stamp` watermarks it across (test orders)."""
    if options.background.kind == "image" and options.format is not OutputFormat.MASK and background_image is None:
        raise RenderError("the template's background is an image, but no background image was given")
    source = _read("the original", decode.open_original, original)
    alpha = _read("the mask", decode.open_mask, mask, source.image.size)
    layout = geometry.plan(source.image.size, geometry.subject_box(alpha), options)
    placed = edges.feather(geometry.place(alpha, layout, Image.Resampling.BILINEAR), options.edge_feather)
    path = trace(placed) if options.wants_clipping_path else None
    dpi = (float(options.dpi), float(options.dpi)) if options.dpi else source.dpi
    if options.format is OutputFormat.MASK:
        shown = watermark.stamp(placed, stamp) if stamp else placed
        return _result(encode(shown, options.format, dpi=dpi), options.format, placed, path)

    rgb = geometry.place(source.image, layout, Image.Resampling.LANCZOS, fill=(255, 255, 255))
    rgb, icc = _manage_colour(rgb, source.icc_profile, options.color_profile)
    if options.edge_decontaminate:
        # A feathered edge is wider: the context must still reach the opaque side.
        rgb = edges.decontaminate(rgb, placed, context=16 + math.ceil(3 * options.edge_feather))
    shadow = _shadow(placed, layout, options)
    backdrop = _backdrop(options, layout.canvas, icc, background_image)
    final = _compose(rgb, placed, shadow, backdrop)
    if stamp:
        final = watermark.stamp(final, stamp)
    resources = photoshop.encode_resources(source.resources)
    if path is not None and options.format.embeds_clipping_path:
        resources += photoshop_resources(path, options.clipping_path_name, options.clipping_path_flatness)
    data = encode(final, options.format, icc_profile=icc, dpi=dpi, resources=resources, exif=source.exif)
    return _result(data, options.format, placed, path)


def _read(what: str, opener, *args):
    try:
        return opener(*args)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RenderError(f"cannot read {what}: {exc}") from exc


def _result(data: bytes, fmt: OutputFormat, mask: Image.Image, path: ClippingPath | None) -> RenderedImage:
    return RenderedImage(data, fmt.mime_type, fmt.extension, mask.width, mask.height, mask, path)


# --- colour ---------------------------------------------------------------------------------------


def _manage_colour(rgb: Image.Image, icc: bytes | None, wanted: str) -> tuple[Image.Image, bytes | None]:
    """The pixels and the profile to embed: the original's, or sRGB when asked."""
    if wanted != "srgb":
        return rgb, icc
    if not decode.is_srgb(icc):
        rgb = _convert(rgb, icc, decode.SRGB_ICC)
    return rgb, decode.SRGB_ICC


def _convert(image: Image.Image, source_icc: bytes | None, target_icc: bytes | None) -> Image.Image:
    if (decode.is_srgb(source_icc) and decode.is_srgb(target_icc)) or source_icc == target_icc:
        return image
    profiles = [ImageCms.ImageCmsProfile(io.BytesIO(p or decode.SRGB_ICC)) for p in (source_icc, target_icc)]
    return ImageCms.profileToProfile(image, profiles[0], profiles[1], outputMode="RGB")


def _colour_in(rgba: tuple[int, int, int, int], icc: bytes | None) -> tuple[int, int, int, int]:
    # Template colours are sRGB (as in CSS); the canvas may be in the original's profile.
    if decode.is_srgb(icc):
        return rgba
    pixel = _convert(Image.new("RGB", (1, 1), rgba[:3]), decode.SRGB_ICC, icc).getpixel((0, 0))
    return (*pixel, rgba[3])


# --- layers ---------------------------------------------------------------------------------------


def _shadow(alpha: Image.Image, layout: geometry.Layout, options: RenderOptions) -> Image.Image | None:
    if options.shadow == "none" or layout.subject is None:
        return None
    box = layout.subject
    longer = max(box[2] - box[0], box[3] - box[1])
    dx, dy = (length.pixels(longer) for length in options.shadow_offset)
    return edges.drop_shadow(alpha, options.shadow_opacity / 100.0, options.shadow_blur.pixels(longer), (dx, dy))


def _backdrop(options: RenderOptions, canvas: tuple[int, int], icc: bytes | None,
              background_image: bytes | None) -> Image.Image | tuple[int, int, int, int] | None:
    """What lies under the subject: an RGB image, an RGBA colour, or None for transparent."""
    background: Background = options.background
    if background.kind == "image":
        assert background_image is not None
        bg = _read("the background image", decode.open_background, background_image)
        cover = ImageOps.fit(bg.image, canvas, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        return _convert(cover, bg.icc_profile, icc)
    colour = background.rgba
    if options.format is OutputFormat.JPG:  # no alpha in JPEG: white below a transparent background
        colour = _over_white(colour or (255, 255, 255, 0))
    return None if colour is None else _colour_in(colour, icc)


def _over_white(rgba: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    a = rgba[3] / 255.0
    return (*(round(c * a + 255 * (1 - a)) for c in rgba[:3]), 255)


def _compose(rgb: Image.Image, alpha: Image.Image, shadow: Image.Image | None,
             backdrop: Image.Image | tuple[int, int, int, int] | None) -> Image.Image:
    """Backdrop, then shadow, then subject: RGB when the backdrop is opaque, RGBA otherwise."""
    size = rgb.size
    if isinstance(backdrop, Image.Image) or (backdrop is not None and backdrop[3] == 255):
        out = backdrop.copy() if isinstance(backdrop, Image.Image) else Image.new("RGB", size, backdrop[:3])
        if shadow is not None:
            out.paste((0, 0, 0), (0, 0, *size), shadow)
        out.paste(rgb, (0, 0), alpha)
        return out
    # Transparent where the subject is not: blank those pixels so the old
    # background is not delivered hidden under alpha 0 (and compresses to nothing).
    subject = Image.new("RGB", size, (0, 0, 0))
    subject.paste(rgb, (0, 0), alpha.point(lambda v: 255 if v else 0))
    subject.putalpha(alpha)
    if shadow is None and backdrop is None:
        return subject
    out = Image.new("RGBA", size, backdrop or (0, 0, 0, 0))
    if shadow is not None:
        dark = Image.new("RGBA", size, (0, 0, 0, 0))
        dark.putalpha(shadow)
        out = Image.alpha_composite(out, dark)
    return Image.alpha_composite(out, subject)
