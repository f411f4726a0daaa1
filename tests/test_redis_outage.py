"""A Redis outage while a job runs costs no worker: the process waits for Redis and works on,
and the interrupted order reaches review without anyone starting anything.

Real processes: a worker subprocess, and a Redis server the test SIGKILLs and
restarts from its append-only file.
"""
from __future__ import annotations

import time

import redis
from rq import Worker

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode
from tests.support.waiting import wait_until


def _status(client, customer, ticket) -> str:
    return status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID")


def test_a_worker_rides_out_a_redis_outage_under_a_running_job_and_is_listed_once(
        app, client, customer, template_id, image_server, own_redis, start_worker):
    app.config["REDIS_URL"] = own_redis.url
    worker, log = start_worker(own_redis.url)
    # 3 s to download, in an 8 s outage: the job ends while Redis is down, and finishing it needs Redis.
    picture = encode("PNG", (256, 256))
    url = image_server.serve_chunked("/slow.png", picture, chunk_size=len(picture) // 10 + 1, interval=0.3)
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    assert wait_until(lambda: image_server.seen("/slow.png"), 60), "the worker never started the fetch"

    own_redis.kill()
    time.sleep(8)
    own_redis.start()

    assert wait_until(lambda: _status(client, customer, ticket) == "40", 90), log.read_text()[-3000:]
    assert worker.poll() is None, log.read_text()[-3000:]
    listed = Worker.all(connection=redis.Redis.from_url(own_redis.url))
    assert len(listed) == 1  # the loop Redis broke registered its death once Redis was back


def test_the_worker_log_says_what_the_sweep_requeued(app, client, customer, template_id, image_server,
                                                     start_worker):
    real_redis = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # Redis "down" while the order comes in
    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    app.config["REDIS_URL"] = real_redis

    _worker, log = start_worker(real_redis)
    assert wait_until(lambda: _status(client, customer, ticket) == "40", 90)
    assert "sweep re-queued 1 job(s)" in log.read_text()


def test_a_worker_started_while_redis_is_down_waits_for_it_and_works(
        app, client, customer, template_id, image_server, own_redis, start_worker):
    app.config["REDIS_URL"] = own_redis.url
    own_redis.kill()
    worker, log = start_worker(own_redis.url)
    assert wait_until(lambda: "worker: Redis unreachable" in log.read_text(), 60), log.read_text()[-3000:]
    assert worker.poll() is None, log.read_text()[-3000:]

    own_redis.start()
    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    assert wait_until(lambda: _status(client, customer, ticket) == "40", 90), log.read_text()[-3000:]
    assert worker.poll() is None
