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
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rq import Retry, get_current_job
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, PendingRollbackError

from infrastructure import metrics
from infrastructure.extensions import db
from infrastructure.images import CheckedImage
from infrastructure.queues import fault_retry
from infrastructure.storage import StorageUnavailable
from orders import pipeline
from orders.codes import FailureReason
from orders.errors import ProcessingError

log = logging.getLogger(__name__)

DATABASE_FAULTS = (OperationalError, InterfaceError, DisconnectionError, PendingRollbackError)
# What a job's own catch-all must let through to survives_faults.
PASSING = (StorageUnavailable, *DATABASE_FAULTS)

STORAGE_MESSAGE = "our file store could not keep this order's files; please send the image again"

Job = TypeVar("Job", bound=Callable[..., Any])


def survives_faults(actor: str | None, *, store_gone: Callable[..., str] | None = None) -> Callable[[Job], Job]:
    """Wrap a job whose first argument is an order id.

    `actor` names who fails the order when the store stays unavailable; None
    for a job that does not decide the order's fate (an operator's region
    re-run simply gives up). `store_gone(order_id, *args)`, if given, is what such
    a job does instead when the store stays unavailable (and what it answers).
    Every run's wall time is recorded under the job function's name, however it ends.
    """

    def wrap(job: Job) -> Job:
        @functools.wraps(job)
        def run(order_id: int, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return job(order_id, *args)
            except StorageUnavailable as exc:
                retry = _retry_after(order_id, exc)
                if retry is not None:
                    return retry
                return store_gone(order_id, *args) if store_gone else _store_gone(order_id, actor)
            except DATABASE_FAULTS as exc:
                retry = _retry_after(order_id, exc)
                if retry is None:
                    raise  # RQ records the failure; the sweep re-queues the order once the database is back
                return retry
            finally:
                metrics.job_ran(job.__name__, time.perf_counter() - started)

        return run  # type: ignore[return-value]

    return wrap


def retries_left() -> bool:
    """The running job has retries of its own left (a download's network budget)."""
    job = get_current_job()
    return bool(job is not None and job.retries_left)


def download_or_give_up(url: str, give_up: Callable[[FailureReason, str], str],
                        what: str) -> tuple[bytes, CheckedImage] | str:
    """The checked image at `url`; or, once the job's network retries are spent (or at once for
    a fault no retry can clear), what `give_up(reason, message)` answers.

    Raising hands the job back to RQ for its next retry; store and database faults pass on
    to survives_faults.
    """
    try:
        return pipeline.download(url)
    except ProcessingError as exc:
        if exc.retryable and retries_left():
            raise  # RQ schedules the next attempt after its backoff interval
        return give_up(exc.reason, exc.message)
    except PASSING:
        raise
    except Exception as exc:  # noqa: BLE001 - an unexpected fault fails this download, never the worker
        if retries_left():
            raise
        log.exception("fetching %s failed unexpectedly", what)
        return give_up(FailureReason.INTERNAL_ERROR, f"unexpected error while fetching: {type(exc).__name__}")


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
