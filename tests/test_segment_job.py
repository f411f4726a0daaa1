"""The draft job: every fetched order gets a machine-made mask before a person sees it."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support import onnx_models
from tests.support.api import post_image, status_of, ticket_of
from tests.support.pictures import encode

pytestmark = pytest.mark.storage  # runs on the local folder and on S3


@pytest.fixture
def drafted(app, client, customer, template_id, image_server, run_jobs):
    """Order a 128x96 PNG and run the worker; returns the order's ticket."""
    url = image_server.serve_bytes("/item.png", encode("PNG", (128, 96)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    run_jobs()
    return ticket


def _order(app, ticket):
    from infrastructure.extensions import db
    from orders.models import Order

    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.ticket == ticket))
        history = [(e.from_status, e.to_status) for e in order.events]
        versions = [(v.number, v.source, v.path) for v in order.mask_versions]
        db.session.expunge_all()
        return order, history, versions


def _image(app, relpath) -> Image.Image:
    from infrastructure import storage

    with app.app_context():
        return Image.open(io.BytesIO(storage.read_bytes(relpath)))


def test_order_passes_segmenting_and_awaits_review_with_a_draft(app, client, customer, drafted):
    order, history, versions = _order(app, drafted)

    assert status_of(client, customer, drafted).findtext("IMAGESTATUS/STATUSNAME") == "Awaiting review"
    assert history == [(None, 10), (10, 20), (20, 40)]
    assert versions == [(0, "model", order.mask_path)]


def test_draft_mask_is_full_size_and_where_the_model_put_the_subject(app, drafted):
    order, _, _ = _order(app, drafted)
    mask = _image(app, order.mask_path)

    assert mask.mode == "L" and mask.size == (128, 96)
    x0, y0, x1, y1 = (v * 2 if i % 2 == 0 else v * 96 // 64 for i, v in enumerate(onnx_models.BOX))
    # The photo is noise, with no edge where the model puts one: the guided upsampling
    # (segmentation.upsample) softens the outline there over its radius, 5 px at this size.
    inside = np.asarray(mask)[y0 + 6:y1 - 6, x0 + 6:x1 - 6]
    assert inside.min() > 200
    assert np.asarray(mask)[:y0 - 6].max() < 50


def test_draft_records_confidence_time_and_a_small_preview(app, drafted):
    order, _, _ = _order(app, drafted)

    assert 0.0 <= order.draft_confidence <= 1.0
    assert order.draft_inference_ms > 0
    preview = _image(app, order.preview_path)
    assert max(preview.size) <= 1024


def test_running_the_draft_job_twice_changes_nothing_more(app, drafted):
    from workers.segment import draft_order

    order, history, versions = _order(app, drafted)
    with app.app_context():
        assert draft_order(order.id).startswith("skipped")
    assert _order(app, drafted)[1:] == (history, versions)


def test_model_error_fails_the_order_and_the_worker_goes_on(app, client, customer, template_id, image_server, run_jobs):
    from workers import model

    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    app.config["SEGMENTATION_MODEL"] = "no-such-model"
    with app.app_context():
        from infrastructure.extensions import db
        from orders.models import Order
        from workers.fetch import fetch_order_image

        fetch_order_image(db.session.scalar(db.select(Order.id).where(Order.ticket == ticket)))
        from workers.segment import draft_order

        order_id = db.session.scalar(db.select(Order.id).where(Order.ticket == ticket))
        assert draft_order(order_id) == "failed: segmentationFailed"
    message = status_of(client, customer, ticket).findtext("message")
    assert message.startswith("segmentationFailed: ModelError")
    assert model.loaded_count() >= 1


def test_second_order_reuses_the_loaded_model(app, client, customer, template_id, image_server, run_jobs):
    from workers import model

    for name in ("a", "b"):
        url = image_server.serve_bytes(f"/{name}.png", encode("PNG"), "image/png")
        post_image(client, customer, templateId=template_id, ImageURL=url)
        run_jobs()
        loaded = model.loaded_count()
    assert model.loaded_count() == loaded


def test_sweep_requeues_an_order_left_in_segmenting(app, client, customer, template_id, image_server, run_jobs):
    from infrastructure.extensions import db
    from infrastructure.queues import queue
    from orders.models import Order
    from workers.sweep import sweep

    url = image_server.serve_bytes("/a.png", encode("PNG"), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    with app.app_context():
        from workers.fetch import fetch_order_image

        order_id = db.session.scalar(db.select(Order.id).where(Order.ticket == ticket))
        fetch_order_image(order_id)
        queue("segment").empty()  # the draft job is lost
        queue("fetch").empty()
        assert sweep() == 1
    run_jobs()
    assert status_of(client, customer, ticket).findtext("IMAGESTATUS/STATUSID") == "40"


def test_worker_refuses_to_start_without_its_model(app):
    app.config["SEGMENTATION_MODEL"] = "no-such-model"
    result = app.test_cli_runner().invoke(args=["worker", "--queues", "segment", "--burst"])

    assert result.exit_code != 0
    assert "unknown model 'no-such-model'" in result.output
    assert "fetch-model" in result.output
