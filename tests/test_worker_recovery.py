"""A worker killed mid-job (as when its machine dies) loses no order: a replacement finishes it.

Real processes: a worker drafting with the real model is SIGKILLed with its
whole process group, then a new worker is started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.api import post_image, ticket_of
from tests.support.pictures import encode
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def real_model_dir():
    from segmentation.model_store import DEFAULT_MODEL, default_model_dir, model_spec

    folder = default_model_dir()
    if not (folder / model_spec(DEFAULT_MODEL, folder).filename).exists():
        pytest.skip("the default model is not fetched (make model)")
    return folder


@pytest.fixture
def worker_env(app, backend, real_model_dir):
    if backend.name != "embedded":
        pytest.skip("one backend is enough for a test of processes")
    env = dict(os.environ)
    env.update(DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"],
               STORAGE_DIR=app.config["STORAGE_DIR"], MODEL_DIR=str(real_model_dir),
               SEGMENTATION_MODEL="isnet-general-use", FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*",
               SWEEP_INTERVAL="3", SWEEP_GRACE_SECONDS="0", JOB_HEARTBEAT_SECONDS="6",
               WORKER_MAINTENANCE_INTERVAL="10")
    return env


def _start_worker(env, name):
    return subprocess.Popen([FLASK, "--app", "app", "worker", "--name", name], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _order_state(app, ticket):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        state = order.status, [(e.from_status, e.to_status) for e in order.events], len(order.mask_versions), order.id
        db.session.remove()
        return state


@pytest.mark.real_model
def test_order_of_a_killed_worker_reaches_review_after_a_replacement_starts(app, client, customer, template_id,
                                                                           image_server, worker_env):
    from infrastructure.redis_connection import get_redis
    from workers.sweep import heartbeat_key

    url = image_server.serve_bytes("/big.jpg", encode("JPEG", (1600, 1200)), "image/jpeg")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    first = _start_worker(worker_env, "doomed")
    try:
        order_id = _order_state(app, ticket)[3]
        running = lambda: get_redis(worker_env["REDIS_URL"]).exists(heartbeat_key(f"segment-{order_id}"))  # noqa: E731
        assert wait_until(running, 120), "the first worker never started the draft"
        time.sleep(0.5)  # inside the model run
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert _order_state(app, ticket)[0] == 20

    started = time.monotonic()
    replacement = _start_worker(worker_env, "replacement")
    try:
        assert wait_until(lambda: _order_state(app, ticket)[0] == 40, 120)
        recovered_in = time.monotonic() - started
    finally:
        replacement.send_signal(signal.SIGTERM)
        replacement.wait(timeout=60)
    status, history, versions, _ = _order_state(app, ticket)
    assert history == [(None, 10), (10, 20), (20, 40)] and versions == 1
    assert recovered_in < 120
