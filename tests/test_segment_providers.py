"""SEGMENT_PROVIDERS: the execution providers a segment worker's session runs on."""
from __future__ import annotations

import hashlib

import onnxruntime as ort
import pytest

from segmentation import providers
from segmentation.model_store import ModelError, add_model_from_file
from segmentation.sessions import load_session


@pytest.fixture
def pinned_box(tiny_model_dir, tmp_path):
    source = tiny_model_dir / "box.onnx"
    add_model_from_file(source, hashlib.sha256(source.read_bytes()).hexdigest(), "my-box", tmp_path)
    return tmp_path


def test_auto_takes_cuda_first_when_onnxruntime_gpu_and_a_gpu_are_there():
    available = ["CUDAExecutionProvider", "CPUExecutionProvider"]

    assert providers.choose("auto", available, gpu_visible=True) == ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_auto_takes_the_cpu_without_a_gpu_or_without_onnxruntime_gpu():
    assert providers.choose("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"], gpu_visible=False) == [
        "CPUExecutionProvider"]
    assert providers.choose("auto", ["CPUExecutionProvider"], gpu_visible=True) == ["CPUExecutionProvider"]


def test_an_explicit_list_is_taken_as_given():
    available = ["CUDAExecutionProvider", "CPUExecutionProvider"]

    assert providers.choose(" CPUExecutionProvider ", available, gpu_visible=True) == ["CPUExecutionProvider"]


def test_the_session_runs_on_the_configured_providers(pinned_box):
    segmenter = load_session("my-box", pinned_box, threads=1, providers="CPUExecutionProvider")

    assert segmenter.providers == ["CPUExecutionProvider"]


def test_auto_on_this_machine_runs_on_what_it_has(pinned_box):
    segmenter = load_session("my-box", pinned_box, threads=1, providers="auto")

    assert segmenter.providers == providers.resolve("auto")


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="onnxruntime-gpu is installed")
def test_asking_for_cuda_without_onnxruntime_gpu_is_a_clear_error(pinned_box):
    with pytest.raises(ModelError, match="CUDAExecutionProvider.*install onnxruntime-gpu"):
        load_session("my-box", pinned_box, providers="CUDAExecutionProvider,CPUExecutionProvider")


def test_a_misspelt_provider_is_a_clear_error(pinned_box):
    with pytest.raises(ModelError, match="CPUExecutionProvidr, which this onnxruntime does not offer"):
        load_session("my-box", pinned_box, providers="CPUExecutionProvidr")


def test_a_provider_that_failed_to_start_is_an_error_when_it_was_asked_for():
    with pytest.raises(ModelError, match="failed to start"):
        providers.check_started(["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"],
                                explicit=True)
    providers.check_started(["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"],
                            explicit=False)  # auto: the CPU is the planned fall-back


def test_a_worker_with_a_missing_provider_stops_at_start_saying_why(own_redis, start_worker):
    process, log = start_worker(own_redis.url, SEGMENT_PROVIDERS="CUDAExecutionProvidr")

    assert process.wait(timeout=60) != 0
    assert "CUDAExecutionProvidr, which this onnxruntime does not offer" in log.read_text()


def test_the_stats_page_shows_each_worker_s_providers(app, client, own_redis, start_worker, make_operator):
    # own_redis before start_worker: the worker is stopped while its Redis still runs, as in a real shutdown.
    # (Killed first, RQ's stop signal can land inside the logging of the lost connection and be swallowed.)
    from tests.support.dashboard import sign_in
    from tests.support.waiting import wait_until

    app.config["REDIS_URL"] = own_redis.url
    start_worker(own_redis.url, SEGMENT_PROVIDERS="CPUExecutionProvider")
    make_operator("ada", admin=True)
    sign_in(client, "ada")

    assert wait_until(lambda: "CPUExecutionProvider" in client.get("/dashboard/admin/stats").get_data(as_text=True),
                      60)
    page = client.get("/dashboard/admin/stats").get_data(as_text=True)
    assert "tiny-box" in page and "segment" in page
