"""Job: download an order's image, check it, store it, and hand the order to the draft job."""
from __future__ import annotations

from orders import pipeline
from orders.codes import Status
from workers.faults import download_or_give_up, survives_faults

ACTOR = pipeline.FETCH_ACTOR


@survives_faults(ACTOR)
def fetch_order_image(order_id: int) -> str:
    """Safe to run twice: an order that already left Received is left alone.

    A download fault spends the retries of FETCH_RETRY_INTERVALS; a fault of
    the store or the database (storing the original) those of survives_faults.
    """
    order = pipeline.order_in(order_id, Status.RECEIVED)
    if order is None:
        return "skipped: not in Received"
    got = download_or_give_up(order.image_url, lambda reason, message: pipeline.fail(order_id, reason, message,
                                                                                      actor=ACTOR),
                              f"the image of order {order_id}")
    if isinstance(got, str):
        return got
    return pipeline.store_original(order, *got)
