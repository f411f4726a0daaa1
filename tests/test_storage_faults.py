"""A store that refuses writes (full, read-only, gone): every job retries for a while, then fails
the order as storageUnavailable, naming no server path, and never spends a download's retries."""
from __future__ import annotations

import pytest
from rq.job import Job, JobStatus

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode


def _folder(ticket: str) -> str:
    return f"orders/{ticket[:2]}/{ticket}"


@pytest.fixture
def placed(client, customer, template_id, image_server):
    """An order for a PNG on the loopback image server, not yet fetched; returns its ticket."""
    url = image_server.serve_bytes("/shirt.png", encode("PNG", (96, 64)), "image/png")
    return ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))


@pytest.fixture
def status(client, customer):
    def read(ticket: str) -> tuple[str, str]:
        doc = status_of(client, customer, ticket)
        return doc.findtext("IMAGESTATUS/STATUSID"), doc.findtext("message")

    return read


@pytest.fixture
def later(app):
    """Fault retries an hour apart: the job waits in RQ's schedule until the test lets it run."""
    app.config["FAULT_RETRY_INTERVALS"] = "3600"


def _job(app, job_id: str) -> Job:
    from infrastructure.redis_connection import get_redis

    with app.app_context():
        return Job.fetch(job_id, connection=get_redis())


def _order_id(app, ticket: str) -> int:
    from orders.lookups import order_by_ticket

    with app.app_context():
        return order_by_ticket(ticket).id


def test_a_refused_original_is_retried_later_without_spending_the_download_retries(
        app, placed, refused_store, later, status, run_jobs):
    refused_store.refuse(f"{_folder(placed)}/original.png")
    run_jobs()

    job = _job(app, f"fetch-{_order_id(app, placed)}")
    assert status(placed) == ("10", "")
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 2  # FETCH_RETRY_INTERVALS' budget is the network's alone


def test_the_order_goes_on_to_review_once_the_store_takes_writes_again(
        app, placed, refused_store, later, status, run_jobs, run_scheduled):
    refused_store.refuse(f"{_folder(placed)}/original.png")
    run_jobs()
    refused_store.restore()

    assert run_scheduled() == 1
    run_jobs()
    assert status(placed) == ("40", "")


def test_a_store_refusing_the_original_past_the_retries_fails_the_order_as_storage_unavailable(
        app, placed, refused_store, status, run_jobs):
    refused_store.refuse(f"{_folder(placed)}/original.png")
    run_jobs()

    status_id, message = status(placed)
    assert status_id == "90"
    assert message.startswith("storageUnavailable: ")
    assert app.config["STORAGE_DIR"] not in message and "/" not in message


def test_a_refused_draft_fails_as_storage_unavailable_not_as_a_model_fault(app, placed, refused_store, status,
                                                                            run_jobs):
    refused_store.refuse(f"{_folder(placed)}/mask-v0.png")
    run_jobs()

    status_id, message = status(placed)
    assert status_id == "90"
    assert message.startswith("storageUnavailable: ") and "/" not in message


def test_a_draft_the_store_refused_for_a_while_reaches_review(app, placed, refused_store, later, status, run_jobs,
                                                              run_scheduled):
    refused_store.refuse(f"{_folder(placed)}/mask-v0.png")
    run_jobs()
    assert status(placed) == ("20", "")
    refused_store.restore()

    run_scheduled()
    run_jobs()
    assert status(placed) == ("40", "")


def test_a_refused_final_fails_the_order_as_storage_unavailable(app, placed, refused_store, status, run_jobs,
                                                               make_operator):
    make_operator("olga")
    run_jobs()
    refused_store.refuse(f"{_folder(placed)}/final/shirt.png")
    approved = app.test_cli_runner().invoke(args=["review", "approve", placed, "--operator", "olga"])
    assert approved.exit_code == 0, approved.output
    run_jobs()

    status_id, message = status(placed)
    assert status_id == "90"
    assert message.startswith("storageUnavailable: ") and "/" not in message
