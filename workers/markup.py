"""Job: fetch the markup image a customer sent with a redo request, and keep it for the review page."""
from __future__ import annotations

from orders import redo
from orders.codes import FailureReason
from workers.faults import download_or_give_up, survives_faults


def _not_kept(order_id: int, redo_number: int) -> str:
    """The store would not keep the markup past the fault retries: the redo goes on without it, and
    the operator reads why (rather than a markup left pending for ever)."""
    request = redo.pending_markup(order_id, redo_number)
    if request is None:
        return "skipped: not pending"
    return redo.markup_unavailable(request, FailureReason.STORAGE_UNAVAILABLE,
                                   "our file store could not keep the markup image")


# No actor: a markup that cannot be stored never fails the order; the redo goes on without it.
@survives_faults(None, store_gone=_not_kept)
def fetch_redo_markup(order_id: int, redo_number: int) -> str:
    """Safe to run twice: a markup already stored or given up is left alone."""
    request = redo.pending_markup(order_id, redo_number)
    if request is None:
        return "skipped: not pending"
    got = download_or_give_up(request.markup_url,
                              lambda reason, message: redo.markup_unavailable(request, reason, message),
                              f"the markup of order {order_id}")
    if isinstance(got, str):
        return got
    return redo.store_markup(request, *got)
