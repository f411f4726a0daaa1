"""A visible watermark across a whole image: what marks a test order's output as unusable."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

INK = (220, 30, 30)
OPACITY = 140  # of 255: the image stays checkable under it, and no one would ship it


def stamp(image: Image.Image, text: str) -> Image.Image:
    """`image` with `text` in diagonal rows over all of it, transparent parts included."""
    width, height = image.size
    size = max(12, min(width, height) // 6)
    font = ImageFont.load_default(size=size)
    tile = _text_row(text, font, size)
    # Drawn on a square big enough that the rotated rows still cover every corner.
    side = int((width**2 + height**2) ** 0.5) + size
    sheet = Image.new("L", (side, side), 0)
    for y in range(0, side, size * 2):
        offset = (y // (size * 2)) % 2 * tile.width // 2
        for x in range(-offset, side, tile.width):
            sheet.paste(tile, (x, y))
    sheet = sheet.rotate(30, resample=Image.Resampling.BILINEAR)
    left, top = (side - width) // 2, (side - height) // 2
    coverage = sheet.crop((left, top, left + width, top + height)).point(lambda v: v * OPACITY // 255)
    ink = Image.new("RGBA", image.size, (*INK, 0))
    ink.putalpha(coverage)
    if image.mode == "L":  # a mask-only output: the stamp shows as grey in it
        marked = image.copy()
        marked.paste(128, (0, 0), coverage)
        return marked
    return Image.alpha_composite(image.convert("RGBA"), ink).convert(image.mode)


def _text_row(text: str, font: ImageFont.FreeTypeFont, size: int) -> Image.Image:
    """One word with a word's space after it, white on black, to be repeated."""
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("L", (right - left + size, bottom - top + size // 2), 0)
    ImageDraw.Draw(tile).text((-left + size // 2, -top + size // 4), text, font=font, fill=255)
    return tile
