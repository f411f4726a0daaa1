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
