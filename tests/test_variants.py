"""Model variants: cheaper models built here from a verified model, pinned and loaded like any other.

The recipes run on tiny ONNX models (tests/support/onnx_models.py); the real ISNet variants
and their speed and IoU are bench/segment.py's (README, *Model variants*).
"""
from __future__ import annotations

import io
import json

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from segmentation import variants
from segmentation.draft import make_draft
from segmentation.model_store import ModelError, add_model_from_file, file_sha256
from segmentation.sessions import load_session
from segmentation.variants import Int8Static, Lean, produce
from tests.support import onnx_models

BOX = (40, 60, 200, 260)  # the bright subject in a 320x320 picture


@pytest.fixture
def model_dir(tmp_path):
    """A model dir where the tiny conv network is pinned as "tiny-conv" (as fetch-model --file does)."""
    folder = tmp_path / "models"
    add_model_from_file(onnx_models.conv_model(tmp_path / "conv.onnx"), None, "tiny-conv", folder)
    return folder


def bright_picture() -> bytes:
    image = Image.new("RGB", (320, 320), (40, 50, 60))
    ImageDraw.Draw(image).rectangle([BOX[0], BOX[1], BOX[2] - 1, BOX[3] - 1], fill=(240, 235, 230))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def iou_with_box(mask: Image.Image) -> float:
    got = np.asarray(mask) >= 128
    want = np.zeros_like(got)
    want[BOX[1]:BOX[3], BOX[0]:BOX[2]] = True
    return np.count_nonzero(got & want) / np.count_nonzero(got | want)


def registry(*recipes: variants.Variant) -> dict[str, variants.Variant]:
    return {recipe.name: recipe for recipe in recipes}


def test_a_variant_is_built_from_its_pinned_source_and_loads_by_name(model_dir):
    path = produce("tiny-lean", model_dir, variants=registry(Lean("tiny-lean", source="tiny-conv")))

    entry = json.loads((model_dir / "models.json").read_text())["tiny-lean"]
    assert entry["sha256"] == file_sha256(path)
    assert file_sha256(model_dir / "tiny-conv.onnx") in entry["derived_from"]  # what it was made from
    draft = make_draft(load_session("tiny-lean", model_dir, threads=1), bright_picture())
    assert iou_with_box(draft.mask) > 0.95


def test_the_same_source_and_recipe_give_the_same_bytes(model_dir, tmp_path):
    other = tmp_path / "other"
    add_model_from_file(model_dir / "tiny-conv.onnx", None, "tiny-conv", other)
    recipe = registry(Int8Static("tiny-int8", source="tiny-conv", calibration_images=2))

    assert file_sha256(produce("tiny-int8", model_dir, variants=recipe)) == \
        file_sha256(produce("tiny-int8", other, variants=recipe))


def test_an_int8_variant_is_quantised_and_runs_a_draft(model_dir):
    path = produce("tiny-int8", model_dir, variants=registry(Int8Static("tiny-int8", source="tiny-conv",
                                                                        calibration_images=2)))

    import onnx
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # the Conv's weight and input are int8
    draft = make_draft(load_session("tiny-int8", model_dir, threads=1), bright_picture())
    assert iou_with_box(draft.mask) > 0.95


def test_a_variant_pinned_for_this_onnxruntime_is_accepted_when_it_matches(model_dir, tmp_path):
    scratch = tmp_path / "scratch"
    add_model_from_file(model_dir / "tiny-conv.onnx", None, "tiny-conv", scratch)
    expected = file_sha256(produce("tiny-lean", scratch, variants=registry(Lean("tiny-lean", source="tiny-conv"))))
    pinned = registry(Lean("tiny-lean", source="tiny-conv", pins={ort.__version__: expected}))

    assert file_sha256(produce("tiny-lean", model_dir, variants=pinned)) == expected


def test_a_variant_that_does_not_hash_to_its_pin_is_refused_and_nothing_is_written(model_dir):
    pinned = registry(Lean("tiny-lean", source="tiny-conv", pins={ort.__version__: "0" * 64}))

    with pytest.raises(ModelError, match=r"variant tiny-lean .* has SHA-256 .*expected 000000000000….*refused"):
        produce("tiny-lean", model_dir, variants=pinned)
    assert not (model_dir / "tiny-lean.onnx").exists()
    assert "tiny-lean" not in json.loads((model_dir / "models.json").read_text())


def test_a_variant_whose_source_is_damaged_is_refused(model_dir):
    (model_dir / "tiny-conv.onnx").write_bytes(b"not the pinned model")

    with pytest.raises(ModelError, match="corrupt or not the pinned version"):
        produce("tiny-lean", model_dir, variants=registry(Lean("tiny-lean", source="tiny-conv")))


def test_a_smaller_input_size_variant_runs_at_that_size(model_dir):
    produce("tiny-32", model_dir, variants=registry(Lean("tiny-32", source="tiny-conv", input_size=32)))

    segmenter = load_session("tiny-32", model_dir, threads=1)
    assert segmenter.input_size == 32  # the family reads the size from the model
    assert iou_with_box(make_draft(segmenter, bright_picture()).mask) > 0.9


def test_unknown_variant_names_the_known_ones(model_dir):
    with pytest.raises(ModelError, match=r"unknown variant 'isnet-fast'; known: .*isnet-512.*isnet-lean"):
        produce("isnet-fast", model_dir)


def test_registry_variants_derive_from_the_default_model_and_are_pinned():
    for variant in variants.VARIANTS.values():
        assert variant.source == "isnet-general-use"
        assert all(len(digest) == 64 for digest in variant.pins.values())


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def cli(app, model_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MODEL_DIR", str(model_dir))
    monkeypatch.setitem(variants.VARIANTS, "tiny-lean", Lean("tiny-lean", source="tiny-conv"))
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_fetch_model_variant_builds_a_verified_model(cli, model_dir):
    result = cli("fetch-model", "--variant", "tiny-lean")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"model ready: {model_dir / 'tiny-lean.onnx'}"
    load_session("tiny-lean", model_dir, threads=1)


def test_fetch_model_variant_with_a_wrong_sha256_is_refused(cli, model_dir):
    result = cli("fetch-model", "--variant", "tiny-lean", "--sha256", "ab" * 32)

    assert result.exit_code != 0
    assert "refused" in result.output
    assert not (model_dir / "tiny-lean.onnx").exists()


def test_fetch_model_takes_one_source(cli, tmp_path):
    result = cli("fetch-model", "--variant", "tiny-lean", "--url", "https://example.com/m.onnx")

    assert result.exit_code != 0
    assert "give one of --url, --file and --variant" in result.output
