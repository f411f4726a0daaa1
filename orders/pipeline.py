"""The pipeline's steps as the jobs run them: fetch → draft → (operator review) → render → deliver.

Each step works on an order it is given in the status it expects, moves it on
with lifecycle.move (conditional, so of two runs only one moves it) and
commits. The job functions in workers/ only choose between retrying and
failing; everything an order goes through is here.
"""
from __future__ import annotations

import io
import logging
import re
import secrets
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from flask import current_app
from PIL import Image

from infrastructure import fetcher, images, metrics, storage
from infrastructure.extensions import db
from infrastructure.queues import enqueue_render, enqueue_segment, enqueue_soon
from orders import callbacks, lifecycle, masks
from orders.codes import FailureReason, Status
from orders.errors import ProcessingError
from orders.models import Delivery, Order, utcnow
from orders.review import add_region_version, approve_test_order
from rendering.options import RenderOptions, parse_options
from rendering.render import RenderedImage, RenderError, render
from segmentation.draft import Draft, SupportsPredict, encode_draft, make_draft, redraft_region

log = logging.getLogger(__name__)

FETCH_ACTOR, SEGMENT_ACTOR, RENDER_ACTOR = "worker:fetch", "worker:segment", "worker:render"
TEST_STAMP = "TEST"  # across every test order's final image


def order_in(order_id: int, *statuses: Status) -> Order | None:
    """The order if it is in one of `statuses`, else None: a job run twice finds it moved on."""
    order = db.session.get(Order, order_id)
    return order if order is not None and order.status in statuses else None


def fail(order_id: int, reason: FailureReason, message: str, *, actor: str) -> str:
    """End the order in 90 Failed (whatever the job had half-done is rolled back) and tell the customer."""
    db.session.rollback()
    failed = lifecycle.fail(order_id, reason, message[:1000], actor=actor)
    db.session.commit()
    if failed:
        callbacks.queue_for(order_id)
    return f"failed: {reason.value}"


# --- fetch ----------------------------------------------------------------------------------


def download(url: str) -> tuple[bytes, images.CheckedImage]:
    """The image at `url`, fetched by the SSRF-safe fetcher and checked; ProcessingError when it cannot be had.

    Every failed try is counted by its reason, a retried one too: a rising rate of downloadFailed is
    a network problem before it fails any order.
    """
    try:
        data = fetcher.fetch(url, max_bytes=current_app.config["MAX_IMAGE_BYTES"],
                             allow_private=current_app.config["FETCH_ALLOW_PRIVATE_NETWORKS"],
                             allowed_ports=fetcher.ports(current_app.config["FETCH_ALLOWED_PORTS"]))
        return data, images.check_image(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    except ProcessingError as exc:
        metrics.fetch_failed(exc.reason.value)
        raise
    except Exception:
        metrics.fetch_failed(FailureReason.INTERNAL_ERROR.value)  # what the job fails the order with
        raise


def store_original(order: Order, data: bytes, checked: images.CheckedImage) -> str:
    """Keep the downloaded original and hand the order to the draft job."""
    # The name is fixed per order, so a second run rewrites the same file.
    relpath = f"{storage.order_dir(order.ticket)}/original{checked.extension}"
    storage.write_bytes(relpath, data)
    moved = lifecycle.move(
        order.id, Status.SEGMENTING, actor=FETCH_ACTOR, expect=[Status.RECEIVED],
        note=f"{checked.format} {checked.width}x{checked.height}, {len(data)} bytes",
        original_path=relpath, original_sha256=checked.sha256, original_format=checked.format,
        original_width=checked.width, original_height=checked.height,
    )
    db.session.commit()
    if not moved:
        return "skipped: moved on meanwhile"
    enqueue_soon(enqueue_segment, order.id)
    return "stored"


# --- draft ----------------------------------------------------------------------------------


def draft(order: Order, segmenter: SupportsPredict) -> str:
    """The model's draft mask (version 0) and preview; the order then waits for an operator.

    Raises StorageUnavailable when the files cannot be read or written, and
    whatever the model raises: the job decides what that means.
    """
    folder = storage.order_dir(order.ticket)
    mask_path, preview_path = f"{folder}/mask-v0.png", f"{folder}/preview.jpg"
    source = storage.read_bytes(order.original_path)
    made = make_draft(segmenter, source)
    metrics.draft_inferred(made.inference_ms / 1000)
    mask_png, preview = encode_draft(made, source, ".jpg")
    mask_sha = storage.write_bytes(mask_path, mask_png)
    storage.write_bytes(preview_path, preview)
    return _attach_draft(order, made, mask_path, mask_sha, preview_path)


def _attach_draft(order: Order, made: Draft, mask_path: str, mask_sha: str, preview_path: str) -> str:
    moved = lifecycle.move(
        order.id, Status.AWAITING_REVIEW, actor=SEGMENT_ACTOR, expect=[Status.SEGMENTING],
        note=f"draft confidence {made.confidence:.3f}, inference {made.inference_ms:.0f} ms",
        draft_confidence=made.confidence, draft_inference_ms=made.inference_ms,
        preview_path=preview_path, mask_path=mask_path,
    )
    if not moved:
        db.session.commit()
        return "skipped: moved on meanwhile"
    masks.record(order, 0, mask_path, mask_sha, source="model", author=SEGMENT_ACTOR)
    test_approved = order.is_test and approve_test_order(order.id)
    db.session.commit()
    if test_approved:
        enqueue_soon(enqueue_render, order.id)
        return "drafted: test order, approved without review"
    return "drafted"


def redraft(order: Order, segmenter: SupportsPredict, box: tuple[int, int, int, int], operator_id: int | None) -> str:
    """Re-run the model on a box of the original and merge it into the latest mask as a new version."""
    with Image.open(io.BytesIO(storage.read_bytes(order.mask_path))) as current:
        merged = redraft_region(segmenter, storage.read_bytes(order.original_path), current.convert("L"), box)
    version = add_region_version(order.id, merged, operator_id)
    return f"version {version.number}" if version else "skipped: left review meanwhile"


# --- render and deliver ---------------------------------------------------------------------


def render_final(order: Order) -> RenderedImage:
    """The approved mask rendered as the order's template says.

    Raises OptionError or RenderError for a template or mask that cannot be
    rendered, ProcessingError for a background image that cannot be fetched.
    """
    options = parse_options(order.template.options or {})
    background = _background_image(order, options)
    return render(storage.read_bytes(order.original_path), storage.read_bytes(order.mask_path), options, background,
                  stamp=TEST_STAMP if order.is_test else None)


def deliver(order: Order, result: RenderedImage) -> str:
    """Store the final (and its SVG path), publish its URL, and tell the customer.

    Each delivery (the first, then one per redo) has its own folder and token, so an earlier
    FINALIMAGEURL keeps working after a redo.
    """
    number = order.redo_count + 1
    folder = f"{storage.order_dir(order.ticket)}/{'final' if number == 1 else f'final-{number}'}"
    name = download_stem(order.image_url)
    final_path = f"{folder}/{name}{result.extension}"
    final_sha = storage.write_bytes(final_path, result.data)
    svg = result.svg()
    svg_path = f"{folder}/{name}.svg" if svg else None
    if svg:
        storage.write_bytes(svg_path, svg.encode())
    now, token = utcnow(), secrets.token_urlsafe(32)
    moved = lifecycle.move(
        order.id, Status.DELIVERED, actor=RENDER_ACTOR, expect=[Status.RENDERING],
        note=f"delivery {number}: {result.mime_type} {result.width}x{result.height}, {len(result.data)} bytes",
        final_path=final_path, final_sha256=final_sha, final_svg_path=svg_path, final_token=token, delivered_at=now,
        # The first delivery is what is billed; a test order never is.
        billed_at=None if order.is_test else (order.billed_at or now),
    )
    if moved:
        db.session.add(Delivery(order_id=order.id, number=number, delivered_at=now, final_path=final_path,
                                final_sha256=final_sha, final_svg_path=svg_path, final_token=token,
                                mask_version=masks.latest_number(order.id)))
    db.session.commit()
    if not moved:
        return "skipped: moved on meanwhile"
    callbacks.queue_for(order.id)
    return "delivered" if number == 1 else f"delivered again (redo {number - 1})"


def _background_image(order: Order, options: RenderOptions) -> bytes | None:
    """ImageURL2 as the new background ("combining images"), fetched by the same safe fetcher."""
    if options.background.kind != "image":
        return None
    if not order.image_url2:
        raise RenderError("the template puts the subject on ImageURL2, but the order has none")
    return download(order.image_url2)[0]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_stem(image_url: str) -> str:
    """The customer's own file name, made safe for a URL and a download: shirt.jpg -> shirt."""
    stem = PurePosixPath(urlsplit(image_url).path).stem
    stem = _UNSAFE.sub("-", stem).strip(".-")[:80]
    return stem or "image"
