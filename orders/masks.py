"""An order's mask versions: the model's draft is version 0, every edit adds the next one."""
from __future__ import annotations

from PIL import Image
from sqlalchemy import select

from infrastructure import storage
from infrastructure.extensions import db
from orders.models import MaskVersion, Order
from segmentation.draft import encode_mask


def record(order: Order, number: int, path: str, sha256: str, *, source: str, author: str,
           operator_id: int | None = None) -> MaskVersion:
    """Add the version row for a mask file already stored at `path` (the caller makes it the current mask)."""
    version = MaskVersion(order_id=order.id, number=number, path=path, sha256=sha256, source=source, author=author,
                          operator_id=operator_id)
    db.session.add(version)
    return version


def latest_number(order_id: int) -> int | None:
    """The number of the order's newest mask version; None before the draft."""
    return db.session.scalar(select(db.func.max(MaskVersion.number)).where(MaskVersion.order_id == order_id))


def add(order: Order, mask: Image.Image, *, source: str, author: str, operator_id: int | None = None) -> MaskVersion:
    """Store `mask` as the order's next version (the caller commits)."""
    number = (latest_number(order.id) or 0) + 1
    path = f"{storage.order_dir(order.ticket)}/mask-v{number}.png"
    sha = storage.write_bytes(path, encode_mask(mask))
    order.mask_path = path
    return record(order, number, path, sha, source=source, author=author, operator_id=operator_id)
