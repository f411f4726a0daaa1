"""Job: render the approved mask as the template says, deliver it, and tell the customer."""
from __future__ import annotations

import logging

from orders import pipeline
from orders.codes import FailureReason, Status
from orders.errors import ProcessingError
from rendering.options import OptionError
from rendering.render import RenderError
from workers.faults import PASSING, survives_faults

log = logging.getLogger(__name__)
ACTOR = pipeline.RENDER_ACTOR


@survives_faults(ACTOR)
def render_order(order_id: int) -> str:
    """Safe to run twice: only an order still in Rendering is rendered, and only one run delivers it."""
    order = pipeline.order_in(order_id, Status.RENDERING)
    if order is None:
        return "skipped: not in Rendering"
    try:
        result = pipeline.render_final(order)
    except ProcessingError as exc:  # the background image could not be fetched
        return pipeline.fail(order_id, exc.reason, f"background image: {exc.message}", actor=ACTOR)
    except PASSING:
        raise  # the store or the database, not the order: survives_faults retries
    except (OptionError, RenderError) as exc:
        return pipeline.fail(order_id, FailureReason.RENDER_FAILED, str(exc), actor=ACTOR)
    except Exception as exc:  # noqa: BLE001 - a render fault fails this order, never the worker
        log.exception("rendering order %s failed", order_id)
        return pipeline.fail(order_id, FailureReason.RENDER_FAILED, f"{type(exc).__name__}: {exc}", actor=ACTOR)
    return pipeline.deliver(order, result)
