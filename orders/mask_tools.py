"""The review page's mask tools: each reads the order's latest mask, runs a masktools algorithm and
stores the result as the next version, under the same rules as saving a mask by hand.

Every call names the version it was made on (`base_version`); when another tab or tool saved a
newer one meanwhile the call is refused with StaleVersion, so no one overwrites work unseen.
"""
from __future__ import annotations

from typing import BinaryIO

import numpy as np
from PIL import Image
from sqlalchemy import select

from infrastructure import storage
from infrastructure.extensions import db
from masktools.cleanup import Cleanup, clean
from masktools.matte import matte_band
from masktools.refine import refine as refine_mask
from masktools.strokes import Stroke
from orders import masks, review
from orders.models import MaskVersion, Operator, Order
from segmentation.draft import decode_full


class StaleVersion(Exception):
    """The mask changed since the caller loaded it."""

    def __init__(self, base: int, latest: int | None) -> None:
        super().__init__(f"version {base} is no longer the latest mask (the latest is {latest}); "
                         "reload the mask and try again")
        self.latest = latest


def cleanup(operator: Operator, ticket: str, steps: Cleanup, base_version: int) -> MaskVersion:
    order, mask = _latest(operator, ticket, base_version)
    return _store(order, clean(mask, steps), "cleanup", operator)


def refine(operator: Operator, ticket: str, strokes: list[Stroke], base_version: int) -> MaskVersion:
    """Keep/remove markers: the mask re-solved near the strokes (masktools.refine)."""
    order, mask = _latest(operator, ticket, base_version)
    return _store(order, refine_mask(_image(order, mask), mask, strokes), "refine", operator)


def matte(operator: Operator, ticket: str, band: Stroke, base_version: int) -> MaskVersion:
    """Soft alpha (hair, fur) estimated inside the brushed band; the rest of the mask stays as it is."""
    order, mask = _latest(operator, ticket, base_version)
    return _store(order, matte_band(_image(order, mask), mask, band), "matte", operator)


def original_pixels(data: bytes) -> np.ndarray:
    """The original's pixels, upright and RGB, as the mask sees them (decode_full gives RGB already;
    at 12 MP a converted copy would cost some 30 ms more)."""
    return np.asarray(decode_full(data).image)


def mask_pixels(stream: BinaryIO) -> np.ndarray:
    """A stored mask's pixels, 8-bit and writable, copied once."""
    with Image.open(stream) as image:
        return np.array(image if image.mode == "L" else image.convert("L"))


def _image(order: Order, mask: np.ndarray) -> np.ndarray:
    """The original, upright and RGB, as the mask sees it."""
    image = original_pixels(storage.read_bytes(order.original_path))
    if image.shape[:2] != mask.shape:
        raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image {image.shape[1]}x{image.shape[0]}")
    return image


def _latest(operator: Operator, ticket: str, base_version: int) -> tuple[Order, np.ndarray]:
    order = review.held_order(operator, ticket)
    # PostgreSQL: two calls on one order queue here, so the second sees the first one's version
    # (SQLite has no row locks; there the version's unique number turns the loser away at commit).
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    latest = masks.latest_number(order.id)
    if latest != base_version:
        raise StaleVersion(base_version, latest)
    with storage.open_stream(order.mask_path) as stream:
        return order, mask_pixels(stream)


def _store(order: Order, mask: np.ndarray, source: str, operator: Operator) -> MaskVersion:
    return review.add_edit(order, Image.fromarray(mask, "L"), source=source, operator=operator)
