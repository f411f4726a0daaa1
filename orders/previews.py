"""An order's stored images as the dashboard shows them: scaled, upright, cached.

Stored files are never overwritten (each mask save is a new version), so a copy
made once stays right for good: the cache key is the stored path and the size,
and copies live in the store under cache/, beside the files they come from.
Copies are upright (EXIF orientation applied) and carry no metadata, so the
browser shows exactly the pixel grid the masks are drawn on.
"""
from __future__ import annotations

import enum
import io
from dataclasses import dataclass

from PIL import Image, ImageOps
from sqlalchemy import select

from infrastructure import storage
from infrastructure.extensions import db
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.lookups import order_by_ticket
from orders.models import MaskVersion, RedoRequest

FULL = 0
# Long sides a copy may have; a request is rounded up to one of these so a handful
# of copies per file serve every screen, and the cache cannot be filled with sizes.
SIZES = (160, 320, 640, 1280, 1920, 2560)


class Kind(enum.Enum):
    ORIGINAL = "original"
    PREVIEW = "preview"  # the draft cutout on a checkerboard, made by the segment job
    MASK = "mask"
    FINAL = "final"
    MARKUP = "markup"  # the customer's markup image of the latest redo request


@dataclass(frozen=True)
class Copy:
    key: str  # in the store
    mimetype: str


def snap_size(requested: int) -> int:
    """The smallest allowed long side that is at least `requested`; FULL for 0 or beyond the largest."""
    if requested <= 0:
        return FULL
    return next((size for size in SIZES if size >= requested), FULL)


def order_file(ticket: str, kind: Kind, version: int | None = None) -> str:
    """The stored path of one of an order's files; unknownTicket when it has none of that kind."""
    order = order_by_ticket(ticket)
    if kind is Kind.MASK:
        path = db.session.scalar(
            select(MaskVersion.path).where(MaskVersion.order_id == order.id, MaskVersion.number == (version or 0))
        )
    elif kind is Kind.MARKUP:
        path = db.session.scalar(select(RedoRequest.markup_path).where(RedoRequest.order_id == order.id)
                                 .order_by(RedoRequest.number.desc()).limit(1))
    else:
        path = {Kind.ORIGINAL: order.original_path, Kind.PREVIEW: order.preview_path,
                Kind.FINAL: order.final_path}[kind]
    if not path:
        raise ServiceError(ErrorCode.UNKNOWN_TICKET, f"order {order.ticket} has no {kind.value} file" +
                           (f" version {version}" if version else ""))
    return path


def upright_size(relpath: str) -> tuple[int, int]:
    """Width and height as shown (EXIF orientation applied); reads the header only."""
    with storage.open_stream(relpath) as stream, Image.open(stream) as image:
        orientation = image.getexif().get(0x0112, 1)
        width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def scaled_copy(relpath: str, size: int, *, alpha: bool = False) -> Copy:
    """A copy of a stored image no longer than `size` on its long side (FULL: as large as stored).

    alpha=True turns a mask into a white image whose transparency is the mask,
    which a browser canvas composites directly (cutouts, overlays, editing).
    """
    if not storage.exists(relpath):
        raise ServiceError(ErrorCode.NOT_FOUND, f"{relpath.rsplit('/', 1)[-1]} is no longer stored")
    size = snap_size(size)
    fmt = _format_for(relpath, alpha)
    cached = f"{storage.CACHE_PREFIX}{relpath}.{size or 'full'}{'.alpha' if alpha else ''}.{fmt.lower()}"
    if not storage.exists(cached):
        storage.write_bytes(cached, _encode(_load(relpath, size, alpha), fmt))
    return Copy(cached, "image/jpeg" if fmt == "JPEG" else "image/png")


def _format_for(relpath: str, alpha: bool) -> str:
    # Photos stay JPEG (small, fast to decode); masks and anything transparent stay lossless.
    return "JPEG" if not alpha and relpath.lower().endswith((".jpg", ".jpeg")) else "PNG"


def _load(relpath: str, size: int, alpha: bool) -> Image.Image:
    with Image.open(io.BytesIO(storage.read_bytes(relpath))) as image:
        if size and image.format == "JPEG":
            # libjpeg then decodes at 1/2, 1/4 or 1/8 scale: a 12 MP photo is never fully decoded for a preview.
            image.draft(image.mode, _fit(image.size, size))
        upright = ImageOps.exif_transpose(image)
        if size:
            upright.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        return _as_alpha(upright) if alpha else _displayable(upright)


def _fit(dims: tuple[int, int], size: int) -> tuple[int, int]:
    scale = min(1.0, size / max(dims))
    return max(1, round(dims[0] * scale)), max(1, round(dims[1] * scale))


def _as_alpha(mask: Image.Image) -> Image.Image:
    grey = mask.getchannel("A") if mask.mode in ("RGBA", "LA") else mask.convert("L")
    return Image.merge("LA", (Image.new("L", grey.size, 255), grey))


def _displayable(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L", "RGBA", "LA"):
        return image
    transparent = image.mode in ("PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if transparent else "RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=88, optimize=False)
    else:
        # Level 3: a 12 MP mask encodes in a fraction of the time of the default, a little larger.
        image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()
