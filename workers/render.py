"""Job: render the approved mask as the template says, deliver it, and tell the customer."""
from __future__ import annotations

import logging
import re
import secrets
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from flask import current_app

from infrastructure import fetcher, images, storage
from infrastructure.extensions import db
from orders import callbacks, lifecycle
from orders.codes import FailureReason, Status
from orders.errors import ProcessingError
from orders.models import Order, utcnow
from rendering.options import OptionError, RenderOptions, parse_options
from rendering.render import RenderError, render
from workers.outcomes import fail_order

log = logging.getLogger(__name__)
ACTOR = "worker:render"


def render_order(order_id: int) -> str:
    """Safe to run twice: only an order still in Rendering is rendered, and only one run delivers it."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != Status.RENDERING:
        return "skipped: not in Rendering"
    try:
        options = parse_options(order.template.options or {})
        background = _background_image(order, options)
        result = render(storage.absolute(order.original_path), storage.absolute(order.mask_path), options, background)
    except ProcessingError as exc:  # the background image could not be fetched
        return fail_order(order_id, exc.reason, f"background image: {exc.message}", actor=ACTOR)
    except (OptionError, RenderError) as exc:
        return fail_order(order_id, FailureReason.RENDER_FAILED, str(exc), actor=ACTOR)
    except Exception as exc:  # noqa: BLE001 - a render fault fails this order, never the worker
        log.exception("rendering order %s failed", order_id)
        return fail_order(order_id, FailureReason.RENDER_FAILED, f"{type(exc).__name__}: {exc}", actor=ACTOR)
    return _deliver(order, result)


def _deliver(order: Order, result) -> str:
    folder = storage.order_dir(order.ticket)
    name = download_stem(order.image_url)
    final_path = f"{folder}/final/{name}{result.extension}"
    final_sha = storage.write_bytes(final_path, result.data)
    svg = result.svg()
    svg_path = f"{folder}/final/{name}.svg" if svg else None
    if svg:
        storage.write_bytes(svg_path, svg.encode())
    moved = lifecycle.move(
        order.id, Status.DELIVERED, actor=ACTOR, expect=[Status.RENDERING],
        note=f"{result.mime_type} {result.width}x{result.height}, {len(result.data)} bytes",
        final_path=final_path, final_sha256=final_sha, final_svg_path=svg_path,
        final_token=secrets.token_urlsafe(32), delivered_at=utcnow(),
    )
    db.session.commit()
    if not moved:
        return "skipped: moved on meanwhile"
    callbacks.queue_for(order.id)
    return "delivered"


def _background_image(order: Order, options: RenderOptions) -> bytes | None:
    """ImageURL2 as the new background ("combining images"), fetched by the same safe fetcher."""
    if options.background.kind != "image":
        return None
    if not order.image_url2:
        raise RenderError("the template puts the subject on ImageURL2, but the order has none")
    data = fetcher.fetch(order.image_url2, max_bytes=current_app.config["MAX_IMAGE_BYTES"],
                         allow_private=current_app.config["FETCH_ALLOW_PRIVATE_NETWORKS"])
    images.check_image(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    return data


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_stem(image_url: str) -> str:
    """The customer's own file name, made safe for a URL and a download: shirt.jpg -> shirt."""
    stem = PurePosixPath(urlsplit(image_url).path).stem
    stem = _UNSAFE.sub("-", stem).strip(".-")[:80]
    return stem or "image"
