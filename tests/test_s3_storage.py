"""S3-compatible object storage: a whole order with no local folder, presigned downloads, moving a
store into a bucket, and a bucket that goes away for a while. moto's S3 server over real HTTP."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import requests
from PIL import Image
from rq.job import Job, JobStatus

from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode
from tests.support.s3_server import S3Server

on_s3 = pytest.mark.parametrize("storage_kind", ["s3"], indirect=True)


def _final_path(client, customer, ticket: str) -> str:
    url = status_of(client, customer, ticket).findtext("IMAGESTATUS/FINALIMAGEURL")
    assert url, "the order has no final"
    return url.replace("http://testserver.example", "")


def _bucket_keys(app) -> list[str]:
    from infrastructure import storage

    with app.app_context():
        return sorted(storage.current().keys())


@on_s3
def test_an_order_travels_the_whole_way_on_s3_and_no_storage_folder_is_made(app, client, customer, deliver):
    [ticket] = deliver(1)

    final = client.get(_final_path(client, customer, ticket))

    assert final.status_code == 200 and final.mimetype == "image/png"
    assert Image.open(io.BytesIO(final.data)).size == (96, 64)
    folder = f"orders/{ticket[:2]}/{ticket}"
    keys = _bucket_keys(app)
    assert {f"{folder}/original.png", f"{folder}/mask-v0.png", f"{folder}/final/review.png"} <= set(keys), keys
    assert not Path(app.config["STORAGE_DIR"]).exists()


@on_s3
def test_objects_live_under_the_prefix_of_storage_url(app, s3_server, deliver):
    deliver(1)
    bucket = app.config["STORAGE_URL"].removeprefix("s3://").split("/")[0]

    names = [item["Key"] for item in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]

    assert names and all(name.startswith("studio/orders/") for name in names)


@on_s3
def test_redirect_mode_sends_the_customer_to_a_short_lived_url_of_the_bucket(app, client, customer, deliver,
                                                                             s3_server):
    [ticket] = deliver(1)
    path = _final_path(client, customer, ticket)
    streamed = client.get(path).data
    app.config["FINAL_URL_MODE"] = "redirect"

    answer = client.get(path)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(s3_server.endpoint_url) and "Expires=" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == streamed
    assert fetched.headers["Content-Type"] == "image/png"


def test_redirect_mode_on_a_local_folder_streams_the_file(app, client, customer, deliver):
    [ticket] = deliver(1)
    app.config["FINAL_URL_MODE"] = "redirect"

    answer = client.get(_final_path(client, customer, ticket))

    assert answer.status_code == 200 and answer.mimetype == "image/png"


@on_s3
def test_a_final_past_retention_answers_gone_in_redirect_mode_too(app, client, customer, deliver):
    from infrastructure import storage
    from orders.lookups import order_by_ticket

    [ticket] = deliver(1)
    path = _final_path(client, customer, ticket)
    with app.app_context():
        storage.delete(order_by_ticket(ticket).final_path)
    app.config["FINAL_URL_MODE"] = "redirect"

    assert client.get(path).status_code == 410


@pytest.fixture
def bucket_url(s3_server, app):
    """An empty bucket on the S3 server, and the app told how to reach it (but still storing locally)."""
    import uuid

    name = f"migrate-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    settings = s3_server.settings(f"s3://{name}/moved")
    app.config.update({key: value for key, value in settings.items() if key != "STORAGE_URL"})
    return settings["STORAGE_URL"]


def test_storage_migrate_copies_every_order_file_into_a_bucket_verified(app, client, customer, deliver,
                                                                       bucket_url):
    from infrastructure import storage

    [ticket] = deliver(1)
    path = _final_path(client, customer, ticket)
    with app.app_context():
        local = {key: storage.read_bytes(key) for key in storage.current().keys() if not key.startswith("cache/")}

    result = app.test_cli_runner().invoke(args=["storage-migrate", "--to", bucket_url])

    assert result.exit_code == 0, result.output
    assert f"{len(local)} copied, 0 already there, 0 failed" in result.output
    app.config["STORAGE_URL"] = bucket_url
    app.extensions.pop("order_store")  # the app now reads from the bucket
    with app.app_context():
        assert {key: storage.read_bytes(key) for key in storage.current().keys()} == local
    assert client.get(path).status_code == 200


def test_storage_migrate_run_again_copies_only_what_is_missing(app, deliver, bucket_url):
    from infrastructure import storage

    deliver(1)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["storage-migrate", "--to", bucket_url])
    with app.app_context():
        target = storage.from_url(bucket_url, app.config)
        lost = next(iter(target.keys()))
        target.delete(lost)  # as if the first run had stopped before this file

    again = runner.invoke(args=["storage-migrate", "--to", bucket_url])

    copied = int(re.search(r"(\d+) copied, 0 already there", first.output).group(1))
    assert again.exit_code == 0 and f"1 copied, {copied - 1} already there, 0 failed" in again.output


def test_storage_migrate_refuses_a_target_that_is_not_a_store(app):
    result = app.test_cli_runner().invoke(args=["storage-migrate", "--to", "ftp://example.com/x"])

    assert result.exit_code != 0 and "s3://bucket/prefix" in result.output


@pytest.fixture
def own_s3(app):
    """An S3 server this test alone uses, to stop and start (its objects live in memory: a restart loses
    them, so the test makes its bucket again); the app stores its files there."""
    server = S3Server()
    server.start()
    server.client().create_bucket(Bucket="own-bucket")
    app.config.update(server.settings("s3://own-bucket/studio"))
    app.extensions.get("order_store", {}).clear()
    yield server
    server.stop()


def test_an_object_store_that_is_down_delays_the_order_and_never_fails_it(app, client, customer, template_id,
                                                                       image_server, own_s3, run_jobs,
                                                                       run_scheduled):
    from infrastructure.redis_connection import get_redis
    from orders.lookups import order_by_ticket

    app.config["FAULT_RETRY_INTERVALS"] = "3600"
    url = image_server.serve_bytes("/shirt.png", encode("PNG", (96, 64)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    own_s3.stop()

    run_jobs()

    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "10"
    with app.app_context():
        job = Job.fetch(f"fetch-{order_by_ticket(ticket).id}", connection=get_redis())
        assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2  # the download's own budget
    own_s3.start()
    own_s3.client().create_bucket(Bucket="own-bucket")
    run_scheduled()
    run_jobs()
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"
