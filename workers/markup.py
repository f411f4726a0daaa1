"""Job: fetch the markup image a customer sent with a redo request, and keep it for the review page."""
from __future__ import annotations

from orders import redo
from workers.faults import download_or_give_up, survives_faults


# No actor: a markup that cannot be stored never fails the order; the redo goes on without it.
@survives_faults(None, store_gone=redo.markup_not_kept)
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
