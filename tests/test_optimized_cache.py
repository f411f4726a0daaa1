"""The optimized-model cache: a session's optimised graph is kept in MODEL_DIR/optimized/ and reused.

Runs on the tiny ONNX models of tests/support/onnx_models.py, pinned in a model dir of
the test's own, through load_session as a worker opens its model.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from segmentation import optimized_cache
from segmentation.model_store import add_model_from_file, file_sha256
from segmentation.optimized_cache import BUILT, CPU, HIT, OFF, REBUILT
from segmentation.sessions import load_onnx, load_session
from tests.support import onnx_models


def pin(tiny_model_dir: Path, which: str, model_dir: Path, name: str = "my-model") -> Path:
    return add_model_from_file(tiny_model_dir / f"{which}.onnx", None, name, model_dir)


def expected_cache(model_dir: Path, model: Path) -> Path:
    return optimized_cache.cache_file(optimized_cache.cache_dir(model_dir), model, file_sha256(model), [CPU])


def picture() -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (onnx_models.SIZE, onnx_models.SIZE, 3), dtype=np.uint8))


def test_the_first_session_writes_the_cache_and_the_second_loads_it(tiny_model_dir, tmp_path):
    model = pin(tiny_model_dir, "box", tmp_path)
    first = load_session("my-model", tmp_path, threads=1)
    cached = expected_cache(tmp_path, model)
    assert first.optimized == BUILT and cached.is_file()
    assert cached.parent == tmp_path / "optimized"
    assert cached.name.startswith(f"my-model-{file_sha256(model)[:12]}-")

    second = load_session("my-model", tmp_path, threads=1)
    assert second.optimized == HIT
    assert sorted(p.name for p in cached.parent.iterdir()) == [cached.name, cached.name + ".sha256"]


@pytest.mark.parametrize("which", ["box", "soft", "bright"])
def test_a_session_from_the_cache_answers_as_the_source_model(tiny_model_dir, tmp_path, which):
    pin(tiny_model_dir, which, tmp_path)
    load_session("my-model", tmp_path, threads=1)
    from_cache = load_session("my-model", tmp_path, threads=1)
    assert from_cache.optimized == HIT
    source = load_onnx(tiny_model_dir / f"{which}.onnx", "isnet", threads=1)
    np.testing.assert_array_equal(from_cache.predict(picture()), source.predict(picture()))


def test_a_changed_model_does_not_use_the_old_cache(tiny_model_dir, tmp_path):
    old_model = pin(tiny_model_dir, "box", tmp_path)
    old_cache = expected_cache(tmp_path, old_model)
    load_session("my-model", tmp_path, threads=1)

    # The same name now pinned to another file (fetch-model --file … --name my-model again).
    new_model = pin(tiny_model_dir, "bright", tmp_path)
    changed = load_session("my-model", tmp_path, threads=1)
    assert changed.optimized == BUILT
    assert expected_cache(tmp_path, new_model) != old_cache
    white = Image.new("RGB", (onnx_models.SIZE, onnx_models.SIZE), "white")
    assert changed.predict(white).min() == 1.0  # the bright model's answer, not the box's


def test_the_key_changes_with_runtime_providers_and_model(monkeypatch):
    sha = "a" * 64
    key = optimized_cache.cache_key(sha, [CPU])
    assert optimized_cache.cache_key("b" * 64, [CPU]) != key
    assert optimized_cache.cache_key(sha, ["CUDAExecutionProvider", CPU]) != key
    monkeypatch.setattr(ort, "__version__", "0.0.1")
    assert optimized_cache.cache_key(sha, [CPU]) != key


def test_gpu_sessions_are_not_cached():
    # A graph optimised for CUDA holds Memcpy nodes onnxruntime cannot load again.
    assert optimized_cache.cacheable([CPU])
    assert not optimized_cache.cacheable(["CUDAExecutionProvider", CPU])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "same size", "another model"])
def test_a_damaged_cache_file_falls_back_to_the_source_and_is_rebuilt(tiny_model_dir, tmp_path, damage):
    model = pin(tiny_model_dir, "box", tmp_path)
    good = load_session("my-model", tmp_path, threads=1).predict(picture())
    cached = expected_cache(tmp_path, model)
    data = cached.read_bytes()
    if damage == "garbage":
        cached.write_bytes(b"not a model at all")
    elif damage == "truncated":
        cached.write_bytes(data[: len(data) // 2])
    elif damage == "same size":  # parses maybe, but is not what was written: the hash tells
        cached.write_bytes(data[:-64] + bytes(64))
    else:  # a valid model with another answer must not be run in its place
        cached.write_bytes((tiny_model_dir / "soft.onnx").read_bytes())

    again = load_session("my-model", tmp_path, threads=1)
    assert again.optimized == REBUILT
    np.testing.assert_array_equal(again.predict(picture()), good)
    assert cached.read_bytes() == data
    assert load_session("my-model", tmp_path, threads=1).optimized == HIT


def test_a_cache_file_that_onnxruntime_refuses_is_rebuilt(tiny_model_dir, tmp_path):
    # Intact by its sidecar, yet unloadable (say, written by a runtime that lied about its version).
    model = pin(tiny_model_dir, "box", tmp_path)
    load_session("my-model", tmp_path, threads=1)
    cached = expected_cache(tmp_path, model)
    cached.write_bytes(b"\x00" * cached.stat().st_size)
    sidecar = cached.with_name(cached.name + ".sha256")
    sidecar.write_text(f"{file_sha256(cached)} {cached.stat().st_size}\n")

    assert load_session("my-model", tmp_path, threads=1).optimized == REBUILT
    assert load_session("my-model", tmp_path, threads=1).optimized == HIT


def test_an_unwritable_cache_folder_only_costs_the_cache(tiny_model_dir, tmp_path):
    pin(tiny_model_dir, "box", tmp_path)
    (tmp_path / "optimized").write_text("a file where the folder should be")
    segmenter = load_session("my-model", tmp_path, threads=1)
    assert segmenter.optimized == OFF
    assert segmenter.predict(picture()).shape == (onnx_models.SIZE, onnx_models.SIZE)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_no_temporary_files_are_left_beside_the_cache(tiny_model_dir, tmp_path):
    pin(tiny_model_dir, "box", tmp_path)
    load_session("my-model", tmp_path, threads=1)
    assert [p.name for p in (tmp_path / "optimized").iterdir() if p.name.startswith(".")] == []


def age(path: Path, days: float) -> None:
    """Make a cache file look last used ``days`` ago (its sidecar's time is its last use)."""
    stamp = time.time() - days * 86400
    for each in (path, path.with_name(path.name + ".sha256")):
        os.utime(each, (stamp, stamp))


def test_a_cache_file_unused_for_thirty_days_is_removed_by_the_next_build(tiny_model_dir, tmp_path):
    old_model = pin(tiny_model_dir, "box", tmp_path)
    load_session("my-model", tmp_path, threads=1)
    old_cache = expected_cache(tmp_path, old_model)
    age(old_cache, optimized_cache.UNUSED_DAYS + 1)

    new_model = pin(tiny_model_dir, "bright", tmp_path)
    assert load_session("my-model", tmp_path, threads=1).optimized == BUILT
    left = sorted(p.name for p in (tmp_path / "optimized").iterdir())
    new_cache = expected_cache(tmp_path, new_model)
    assert left == [new_cache.name, new_cache.name + ".sha256"]


def test_a_cache_file_still_in_use_is_kept_however_old_it_is(tiny_model_dir, tmp_path):
    # Another machine of another CPU shares MODEL_DIR: its file is old but opened every day.
    box = pin(tiny_model_dir, "box", tmp_path, name="box-model")
    load_session("box-model", tmp_path, threads=1)
    box_cache = expected_cache(tmp_path, box)
    age(box_cache, optimized_cache.UNUSED_DAYS + 5)
    assert load_session("box-model", tmp_path, threads=1).optimized == HIT  # used today

    pin(tiny_model_dir, "bright", tmp_path)
    assert load_session("my-model", tmp_path, threads=1).optimized == BUILT
    assert box_cache.is_file()
    assert load_session("box-model", tmp_path, threads=1).optimized == HIT


def test_a_dead_build_s_temporary_file_is_removed_after_the_grace_period(tiny_model_dir, tmp_path):
    pin(tiny_model_dir, "box", tmp_path)
    folder = tmp_path / "optimized"
    folder.mkdir()
    leftover = folder / ".my-model-abc.onnx.x1y2.tmp"
    leftover.write_bytes(b"half a graph")
    age_stamp = time.time() - (optimized_cache.UNUSED_DAYS + 1) * 86400
    os.utime(leftover, (age_stamp, age_stamp))
    load_session("my-model", tmp_path, threads=1)
    assert not leftover.exists()
