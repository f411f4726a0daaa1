"""One policy for every job when a part under it fails for a while: the file store or the database.

Such a fault says nothing about the order, so it must neither fail the order
at once (a full disk is not a bad image) nor spend the job's own retries (a
download's network budget). The job is run again at FAULT_RETRY_INTERVALS
(RQ counts these returned retries apart from raised ones). When they are
spent, a store fault fails the order as storageUnavailable with a message
that names no server path; a database fault leaves the order where it is, for
the sweep once the database answers again (nothing can be written meanwhile).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rq import Retry, get_current_job
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, PendingRollbackError

from infrastructure.extensions import db
from infrastructure.queues import fault_retry
from infrastructure.storage import StorageUnavailable
from orders import pipeline
from orders.codes import FailureReason

log = logging.getLogger(__name__)

DATABASE_FAULTS = (OperationalError, InterfaceError, DisconnectionError, PendingRollbackError)
# What a job's own catch-all must let through to survives_faults.
PASSING = (StorageUnavailable, *DATABASE_FAULTS)

STORAGE_MESSAGE = "our file store could not keep this order's files; please send the image again"

Job = TypeVar("Job", bound=Callable[..., Any])


def survives_faults(actor: str | None) -> Callable[[Job], Job]:
    """Wrap a job whose first argument is an order id.

    `actor` names who fails the order when the store stays unavailable; None
    for a job that does not decide the order's fate (an operator's region
    re-run simply gives up).
    """

    def wrap(job: Job) -> Job:
        @functools.wraps(job)
        def run(order_id: int, *args: Any) -> Any:
            try:
                return job(order_id, *args)
            except StorageUnavailable as exc:
                return _retry_after(order_id, exc) or _store_gone(order_id, actor)
            except DATABASE_FAULTS as exc:
                retry = _retry_after(order_id, exc)
                if retry is None:
                    raise  # RQ records the failure; the sweep re-queues the order once the database is back
                return retry

        return run  # type: ignore[return-value]

    return wrap


def _retry_after(order_id: int, exc: Exception) -> Retry | None:
    """RQ's next fault retry for the running job, or None when they are spent."""
    _drop_session()
    retry, job = fault_retry(), get_current_job()
    done = (job.number_of_retries or 0) if job is not None else 0
    cause = exc.__cause__ or exc
    if retry is not None and job is not None and done < retry.max:
        log.warning("%s of order %s: %s (%s); retry %d of %d", job.func_name, order_id, exc, cause, done + 1,
                    retry.max)
        return retry
    log.error("order %s: %s (%s); no fault retries left", order_id, exc, cause)
    return None


def _store_gone(order_id: int, actor: str | None) -> str:
    if actor is None:
        return f"gave up: {FailureReason.STORAGE_UNAVAILABLE.value}"
    return pipeline.fail(order_id, FailureReason.STORAGE_UNAVAILABLE, STORAGE_MESSAGE, actor=actor)


def _drop_session() -> None:
    """A fault can leave the session mid-transaction on a dead connection: start the next try clean."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; remove() below discards it anyway
        log.debug("rollback after a fault failed", exc_info=True)
    db.session.remove()
