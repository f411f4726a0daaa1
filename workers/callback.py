"""Job: POST the customer's callback; RQ's scheduler runs the retries (CALLBACK_RETRY_INTERVALS).

Retries live in Redis (RQ's scheduled-job registry), never as sleeps in a
worker, so they survive a worker restart.
"""
from __future__ import annotations

from rq import get_current_job

from orders import callbacks
from workers.faults import survives_faults


class CallbackFailed(Exception):
    """Raised so RQ schedules the next retry."""


@survives_faults(None)
def send_callback(order_id: int) -> str:
    outcome = callbacks.attempt(order_id)
    if outcome.ok or not outcome.retry:
        if not outcome.ok:
            callbacks.give_up(order_id)
        return outcome.detail
    job = get_current_job()
    if job is not None and job.retries_left:
        raise CallbackFailed(outcome.detail)
    callbacks.give_up(order_id)
    return f"gave up: {outcome.detail}"
