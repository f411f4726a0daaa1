"""GET /metrics: what Prometheus reads of the orders, the queues, the jobs and the faults."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import post_image, ticket_of
from tests.support.pictures import encode
from tests.support.ports import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
CLOSED_REDIS = "redis://127.0.0.1:1/0"
TOKEN = "scrape-token-4f1c"


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    return _samples(response.get_data(as_text=True))


def value(samples: dict, name: str, **labels: str) -> float:
    """A sample's value; 0 for one not (yet) there, as Prometheus reads a counter never incremented."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def _place(client, customer, template_id, url: str = "http://images.example/cat.jpg", **fields) -> str:
    return ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url, **fields))


def test_a_scrape_answers_prometheus_text_that_parses(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {"clip_orders", "clip_orders_sla_at_risk", "clip_queue_jobs", "clip_queue_oldest_job_age_seconds",
            "clip_job_duration_seconds", "clip_draft_inference_seconds", "clip_review_seconds",
            "clip_callback_attempts", "clip_fetch_failures", "clip_scrape_part_up"} <= names


def test_every_metric_a_scrape_answers_is_documented_in_the_readme(client):
    readme = (ROOT / "README.md").read_text()
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    ours = [f.name + ("_total" if f.type == "counter" else "") for f in families if f.name.startswith("clip_")]
    assert ours and [name for name in ours if f"| `{name}` |" not in readme] == []


def test_an_order_placed_through_the_api_shows_in_orders_by_status(client, customer, template_id):
    before = value(scrape(client), "clip_orders", status="received")
    _place(client, customer, template_id)
    assert value(scrape(client), "clip_orders", status="received") == before + 1


def test_an_unapproved_order_due_within_the_hour_is_at_risk(client, customer, make_template):
    due_in_an_hour, due_tomorrow = make_template(delivery_hours=1), make_template(delivery_hours=24)
    _place(client, customer, due_tomorrow)
    assert value(scrape(client), "clip_orders_sla_at_risk") == 0
    _place(client, customer, due_in_an_hour)
    assert value(scrape(client), "clip_orders_sla_at_risk") == 1


def test_queue_depth_reflects_enqueued_jobs(client, customer, template_id):
    before = value(scrape(client), "clip_queue_jobs", queue="fetch")
    _place(client, customer, template_id)
    _place(client, customer, template_id)
    after = scrape(client)
    assert value(after, "clip_queue_jobs", queue="fetch") == before + 2
    assert value(after, "clip_queue_jobs", queue="segment") == 0


def test_the_oldest_job_age_is_the_time_since_the_head_of_the_queue_was_enqueued(app, client, customer,
                                                                                template_id):
    from infrastructure import queues
    from infrastructure.redis_connection import get_redis

    _place(client, customer, template_id)
    with app.app_context():
        depths, ages = queues.backlog(get_redis(), now=datetime.now(UTC) + timedelta(minutes=5))
    assert depths["fetch"] == 1
    assert 299 <= ages["fetch"] <= 302
    assert "segment" not in ages


def test_a_job_run_by_a_real_burst_worker_is_timed_by_kind(client, customer, template_id, image_server, run_jobs):
    before = value(scrape(client), "clip_job_duration_seconds_count", kind="fetch_order_image")
    _place(client, customer, template_id, image_server.serve_bytes("/a.png", encode("PNG", (64, 48)), "image/png"))
    run_jobs()
    after = scrape(client)
    assert value(after, "clip_job_duration_seconds_count", kind="fetch_order_image") == before + 1
    assert value(after, "clip_job_duration_seconds_bucket", kind="fetch_order_image", le="+Inf") >= before + 1


def test_a_draft_s_inference_time_is_observed(client, reviewable):
    before = value(scrape(client), "clip_draft_inference_seconds_count")
    reviewable()
    assert value(scrape(client), "clip_draft_inference_seconds_count") == before + 1


def test_review_time_is_observed_from_claim_to_approve(app, client, reviewable, make_operator):
    from infrastructure.extensions import db
    from orders import review
    from orders.models import Operator

    [ticket] = reviewable()
    make_operator("olga")
    before = scrape(client)
    with app.app_context():
        operator = db.session.scalar(db.select(Operator).where(Operator.name == "olga"))
        review.claim(operator, ticket)
        time.sleep(0.2)
        review.approve(operator, ticket)
    after = scrape(client)
    assert value(after, "clip_review_seconds_count") == value(before, "clip_review_seconds_count") + 1
    assert value(after, "clip_review_seconds_sum") - value(before, "clip_review_seconds_sum") >= 0.2


def test_a_delivered_callback_is_counted_as_delivered(client, deliver, receiver):
    before = value(scrape(client), "clip_callback_attempts_total", outcome="delivered")
    deliver(ImageCallbackURL=receiver.url())
    assert value(scrape(client), "clip_callback_attempts_total", outcome="delivered") == before + 1


def test_a_callback_the_receiver_refuses_is_counted_as_failed(client, deliver):
    before = value(scrape(client), "clip_callback_attempts_total", outcome="failed")
    deliver(ImageCallbackURL=f"http://127.0.0.1:{free_port()}/hook")
    assert value(scrape(client), "clip_callback_attempts_total", outcome="failed") == before + 1


def test_a_fetch_failure_is_counted_by_its_reason(client, customer, template_id, image_server, run_jobs):
    before = value(scrape(client), "clip_fetch_failures_total", reason="notAnImage")
    _place(client, customer, template_id, image_server.serve_bytes("/notes.txt", b"just words", "text/plain"))
    run_jobs()
    assert value(scrape(client), "clip_fetch_failures_total", reason="notAnImage") == before + 1


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_with_a_token_set_a_scrape_without_it_answers_401(app, client, authorization):
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert b"clip_" not in response.data


def test_with_a_token_set_a_scrape_with_it_answers(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    samples = scrape(client, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "clip_scrape_part_up", part="database") == 1


# --- parts that are down ---------------------------------------------------------------------


def test_with_redis_down_a_scrape_still_reports_the_orders_and_says_redis_is_down(app, client, customer,
                                                                                 template_id):
    _place(client, customer, template_id)
    app.config["REDIS_URL"] = CLOSED_REDIS
    samples = scrape(client)
    assert value(samples, "clip_scrape_part_up", part="redis") == 0
    assert value(samples, "clip_scrape_part_up", part="database") == 1
    assert value(samples, "clip_orders", status="received") == 1
    assert not any(name == "clip_queue_jobs" for name, _labels in samples)


def test_with_the_database_down_a_scrape_still_reports_the_queues_and_says_the_database_is_down(
        app_without_database):
    started = time.monotonic()
    samples = scrape(app_without_database.test_client())
    assert time.monotonic() - started < 5
    assert value(samples, "clip_scrape_part_up", part="database") == 0
    assert value(samples, "clip_scrape_part_up", part="redis") == 1
    assert ("clip_queue_jobs", frozenset({("queue", "fetch")})) in samples
    assert not any(name == "clip_orders" for name, _labels in samples)


# --- processes -------------------------------------------------------------------------------


def test_in_multiprocess_mode_a_scrape_reports_what_another_process_recorded(client, tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    recorder = ("from infrastructure import metrics; metrics.fetch_failed('corruptImage'); "
                "metrics.job_ran('render_order', 0.3)")
    subprocess.run([sys.executable, "-c", recorder], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)})

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    samples = scrape(client)
    assert value(samples, "clip_fetch_failures_total", reason="corruptImage") == 1
    assert value(samples, "clip_job_duration_seconds_count", kind="render_order") == 1
    assert value(samples, "clip_job_duration_seconds_sum", kind="render_order") == pytest.approx(0.3)
    assert value(samples, "clip_scrape_part_up", part="database") == 1


def test_a_worker_s_own_port_needs_the_token_too():
    from infrastructure import metrics

    port = free_port()
    server = metrics.serve("127.0.0.1", port, TOKEN)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert requests.get(url, timeout=5).status_code == 401
        answer = requests.get(url, timeout=5, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        assert "clip_job_duration_seconds" in {f.name for f in text_string_to_metric_families(answer.text)}
    finally:
        server.shutdown()
        server.server_close()


def test_flask_worker_serves_its_jobs_metrics_on_metrics_port(app, client, customer, template_id, image_server,
                                                              own_redis, start_worker):
    # A Redis of its own: no other test's worker can take the job, and this worker no other test's.
    app.config["REDIS_URL"] = own_redis.url
    port = free_port()
    start_worker(own_redis.url, METRICS_PORT=str(port), METRICS_ADDRESS="127.0.0.1")
    _place(client, customer, template_id, image_server.serve_bytes("/w.png", encode("PNG", (64, 48)), "image/png"))

    def fetched() -> bool:
        try:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except requests.RequestException:  # refused while it starts, or a read timeout while it boots
            return False
        # At least once: on a loaded machine a locked SQLite file can make the job run again.
        return value(_samples(text), "clip_job_duration_seconds_count", kind="fetch_order_image") >= 1

    assert wait_until(fetched, 120)  # a worker starting on a loaded machine
