"""Queues, and one enqueue_* helper per job: the only place naming its queue, timeout and retry.

Job ids are derived from the order id, so the sweep can tell whether an
order's job still exists, and enqueueing an order twice does no harm.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.utils import str_to_date

from infrastructure.redis_connection import get_redis

log = logging.getLogger(__name__)

QUEUE_NAMES = ("fetch", "segment", "render", "callback", "default")

# Jobs are looked at after they end (operators, tests, the sweep): keep them a while.
_RESULT_TTL = 24 * 3600
_FAILURE_TTL = 7 * 24 * 3600


def queue(name: str) -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis())


def intervals(setting: str) -> list[int]:
    """Parse "10,60" into [10, 60]."""
    return [int(part) for part in str(current_app.config[setting]).split(",") if part.strip()]


def _retry(setting: str) -> Retry | None:
    """RQ's retries at the gaps a setting lists; none when it lists none."""
    gaps = intervals(setting)
    return Retry(max=len(gaps), interval=gaps) if gaps else None


def fault_retry() -> Retry | None:
    """What a job returns to be run again after a fault of the store or the database (RQ counts these
    apart from the retries of raised errors, so a disk fault never spends a download's budget)."""
    return _retry("FAULT_RETRY_INTERVALS")


def _enqueue(queue_name: str, func: str, order_id: int, *, job_id: str | None, timeout: int, what: str,
             retry: Retry | None = None, extra_args: tuple = ()) -> Job:
    # On a pipeline of our own: RQ alone makes two round trips (the queue's name into the set of
    # queues, then the job), one of them on every POST Image; together they are one MULTI/EXEC.
    with get_redis().pipeline() as pipe:
        job = queue(queue_name).enqueue(
            func,
            order_id,
            *extra_args,
            job_id=job_id,
            job_timeout=timeout,
            retry=retry,
            result_ttl=_RESULT_TTL,
            failure_ttl=_FAILURE_TTL,
            description=f"{what} of order {order_id}",
            pipeline=pipe,
        )
        pipe.execute()
    return job


def fetch_job_id(order_id: int) -> str:
    return f"fetch-{order_id}"


def enqueue_fetch(order_id: int) -> Job:
    return _enqueue("fetch", "workers.fetch.fetch_order_image", order_id, job_id=fetch_job_id(order_id),
                    timeout=120, what="fetch image", retry=_retry("FETCH_RETRY_INTERVALS"))


def markup_job_id(order_id: int, redo_number: int) -> str:
    # One job per redo request: a second redo of the order has its own markup.
    return f"markup-{order_id}-{redo_number}"


def enqueue_markup(order_id: int, redo_number: int) -> Job:
    return _enqueue("fetch", "workers.markup.fetch_redo_markup", order_id, job_id=markup_job_id(order_id, redo_number),
                    timeout=120, what=f"fetch the markup of redo {redo_number}",
                    retry=_retry("FETCH_RETRY_INTERVALS"), extra_args=(redo_number,))


def segment_job_id(order_id: int) -> str:
    return f"segment-{order_id}"


def enqueue_segment(order_id: int) -> Job:
    return _enqueue("segment", "workers.segment.draft_order", order_id, job_id=segment_job_id(order_id),
                    timeout=300, what="draft mask")


def enqueue_region(order_id: int, box: tuple[int, int, int, int], operator_id: int | None) -> Job:
    # A fresh id per request (job_id None): an operator may re-run several regions of one order.
    job = _enqueue("segment", "workers.segment.redraft_region_job", order_id, job_id=None, timeout=300,
                   what=f"re-run region {box}", extra_args=(list(box), operator_id))
    redis = get_redis()
    redis.incr(_regions_key(order_id))
    redis.expire(_regions_key(order_id), _REGIONS_FORGET)
    return job


# Region re-runs of one order not yet finished, so that one page cannot fill the segment queue.
# A worker killed mid-run leaves its count behind: the key lapses this long after the last request.
_REGIONS_FORGET = 15 * 60


def _regions_key(order_id: int) -> str:
    return f"clip:region-jobs:{order_id}"


def regions_pending(order_id: int) -> int:
    return int(get_redis().get(_regions_key(order_id)) or 0)


def region_done(order_id: int) -> None:
    """Called by the region job when it ends, however it ends."""
    redis = get_redis()
    if redis.decr(_regions_key(order_id)) < 0:
        redis.delete(_regions_key(order_id))


def render_job_id(order_id: int) -> str:
    return f"render-{order_id}"


def enqueue_render(order_id: int) -> Job:
    return _enqueue("render", "workers.render.render_order", order_id, job_id=render_job_id(order_id),
                    timeout=600, what="render final image")


def callback_job_id(order_id: int) -> str:
    return f"callback-{order_id}"


def enqueue_callback(order_id: int) -> Job:
    return _enqueue("callback", "workers.callback.send_callback", order_id, job_id=callback_job_id(order_id),
                    timeout=60, what="send callback", retry=_retry("CALLBACK_RETRY_INTERVALS"))


def enqueue_soon(enqueue: Callable[..., Job], order_id: int, *args: object) -> None:
    """Enqueue a job for an order whose new state is already committed.

    A queue fault (Redis down) is logged, not raised: the order is safe in the
    database, and the sweep re-enqueues every order whose job is missing.
    """
    try:
        enqueue(order_id, *args)
    except Exception:  # noqa: BLE001 - any queue fault: the sweep picks the order up
        log.warning("could not queue %s for order %s; the sweep will", enqueue.__name__, order_id, exc_info=True)


def backlog(connection: Redis, now: datetime | None = None) -> tuple[dict[str, int], dict[str, float]]:
    """Per queue: how many jobs wait, and how many seconds the one at the head (the oldest) has waited.

    Two round trips for all queues. A head whose job hash is gone (deleted, expired) is passed over for
    the next of the first few; a queue whose first few are all gone has no age in the answer.
    """
    now = now or datetime.now(UTC)
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    with connection.pipeline(transaction=False) as pipe:
        for q in queues:
            pipe.llen(q.key)
            pipe.lrange(q.key, 0, _HEADS - 1)
        answers = pipe.execute()
    depths = {q.name: int(answers[2 * i]) for i, q in enumerate(queues)}
    heads = {q.name: [job_id.decode() for job_id in answers[2 * i + 1]] for i, q in enumerate(queues)}
    with connection.pipeline(transaction=False) as pipe:
        for ids in heads.values():
            for job_id in ids:
                pipe.hget(Job.key_for(job_id), "enqueued_at")
        stamps = iter(pipe.execute())
    ages = {}
    for name, ids in heads.items():
        enqueued = [stamp for stamp in (next(stamps) for _ in ids) if stamp]
        if enqueued:
            ages[name] = max((now - str_to_date(enqueued[0])).total_seconds(), 0.0)
    return depths, ages


_HEADS = 3  # queue entries looked at for the oldest job's age
