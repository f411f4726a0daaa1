"""The sweep: orders whose job went missing are queued again."""
from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode


def test_order_placed_while_redis_was_down_is_picked_up_by_the_sweep(app, client, customer, template_id,
                                                                     image_server, run_jobs):
    real_redis = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # Redis "down" while the order comes in
    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    app.config["REDIS_URL"] = real_redis

    run_jobs()
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "10"  # nothing queued it

    from workers.sweep import sweep

    with app.app_context():
        assert sweep() == 1
    run_jobs()
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"


def test_sweep_leaves_orders_whose_job_is_still_queued(app, client, customer, template_id):
    post_image(client, customer, templateId=template_id)
    from workers.sweep import sweep

    with app.app_context():
        assert sweep() == 0


def test_only_one_sweep_runs_per_interval_across_workers(app, client, customer, template_id):
    from workers.runner import sweep_once

    assert sweep_once(app) == 0
    assert sweep_once(app) is None  # another "worker" already swept within the interval


def test_sweep_requeues_a_job_a_worker_took_off_its_queue_and_never_started(app, client, customer, template_id,
                                                                             image_server, run_jobs):
    # RQ takes a job's id off its queue (into the intermediate queue), then marks the job started: a worker
    # that loses Redis (bench/faults.py, Redis SIGKILLed) or dies in between leaves it "queued" in no queue.
    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    from rq.job import Job, JobStatus

    from infrastructure.queues import queue
    from workers.sweep import sweep

    with app.app_context():
        fetch = queue("fetch")
        (job_id,) = fetch.get_job_ids()
        fetch.connection.lrem(fetch.key, 0, job_id)
        fetch.connection.rpush(f"{fetch.key}:intermediate", job_id)
        assert Job.fetch(job_id, connection=fetch.connection).get_status() == JobStatus.QUEUED

        assert sweep() == 1
        assert fetch.get_job_ids() == [job_id]
        assert fetch.connection.lrange(f"{fetch.key}:intermediate", 0, -1) == []
    run_jobs()
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"


def test_an_order_in_qa_is_left_alone(app, reviewable, make_operator):
    from orders import operators, review
    from orders.lookups import order_by_ticket
    from workers.sweep import sweep

    app.config["QA_SAMPLE_PERCENT"] = 100
    ticket = reviewable(1)[0]
    make_operator("olga")
    with app.app_context():
        review.claim_and_approve(operators.operator_by_name("olga"), ticket)
        sweep()
        assert order_by_ticket(ticket).status == 55
