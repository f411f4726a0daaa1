"""Retries RQ scheduled for later (a download's, a callback's) are run by one worker's scheduler;
when that worker is killed, another takes the scheduling over within seconds, not RQ's minute."""
from __future__ import annotations

import os
import signal

from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode
from tests.support.waiting import wait_until


def test_a_retry_scheduled_by_a_killed_worker_runs_soon_after_another_worker_takes_over(
        app, client, customer, template_id, image_server, start_worker):
    from infrastructure.redis_connection import get_redis

    redis_url = app.config["REDIS_URL"]
    redis = get_redis(redis_url)
    url = image_server.serve_status("/flaky.png", 503)  # retryable: the fetch job schedules a retry
    app.config["FETCH_RETRY_INTERVALS"] = "4"  # fixed when the order is queued
    first, log = start_worker(redis_url)
    assert wait_until(lambda: redis.get(RQScheduler.get_locking_key("fetch")), 60), log.read_text()[-2000:]
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    with app.app_context():
        from orders.lookups import order_by_ticket

        job_id = f"fetch-{order_by_ticket(ticket).id}"
    assert wait_until(lambda: Job.fetch(job_id, connection=redis).get_status() == JobStatus.SCHEDULED, 60), \
        log.read_text()[-3000:]
    os.killpg(first.pid, signal.SIGKILL)  # with its scheduler, holding the locks
    first.wait()
    image_server.serve_bytes("/flaky.png", encode("PNG"), "image/png")

    start_worker(redis_url)
    reviewed = lambda: status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"  # noqa: E731
    assert wait_until(reviewed, 40)  # RQ alone: the dead scheduler's lock lives 61 s
