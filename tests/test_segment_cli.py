"""flask segment IMAGE… --out DIR: the draft model on files, for batch use."""
import numpy as np
import pytest
from PIL import Image

from tests.support.pictures import encode


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["segment", *map(str, args)])


def test_writes_an_rgba_cutout_per_image_at_original_size(cli, tmp_path):
    (tmp_path / "shirt.jpg").write_bytes(encode("JPEG", (120, 80)))
    (tmp_path / "shoe.png").write_bytes(encode("PNG", (64, 64)))

    result = cli(tmp_path / "shirt.jpg", tmp_path / "shoe.png", "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    shirt = Image.open(tmp_path / "out" / "shirt.png")
    assert shirt.mode == "RGBA" and shirt.size == (120, 80)
    alpha = np.asarray(shirt)[..., 3]
    assert alpha.max() > 200 and alpha.min() < 50  # the box model's subject and background
    assert (tmp_path / "out" / "shoe.png").exists()
    assert result.output.strip().endswith("2 written to " + str(tmp_path / "out") + ", 0 failed")


def test_mask_only_writes_the_mask(cli, tmp_path):
    (tmp_path / "a.png").write_bytes(encode("PNG", (64, 48)))

    assert cli(tmp_path / "a.png", "--out", tmp_path / "out", "--mask-only").exit_code == 0
    mask = Image.open(tmp_path / "out" / "a.png")
    assert mask.mode == "L" and mask.size == (64, 48)


def test_unreadable_inputs_are_reported_and_skipped_and_exit_non_zero(cli, tmp_path):
    (tmp_path / "good.png").write_bytes(encode("PNG"))
    (tmp_path / "text.jpg").write_text("not an image")

    result = cli(tmp_path / "text.jpg", tmp_path / "missing.png", tmp_path / "good.png", "--out", tmp_path / "out")

    assert result.exit_code != 0
    assert "skipped" in result.output and "text.jpg" in result.output and "missing.png" in result.output
    assert (tmp_path / "out" / "good.png").exists()
    assert "1 written" in result.output and "2 failed" in result.output


@pytest.mark.parametrize("name, fmt, size", [("small.jpg", "JPEG", (120, 80)),  # decoded whole for the model
                                              ("large.jpg", "JPEG", (640, 400)),  # decoded at 1/4 for the model
                                              ("flat.png", "PNG", (90, 70))])
def test_a_cutout_is_the_whole_original_with_the_draft_mask_as_alpha(cli, tmp_path, box_segmenter, name, fmt, size):
    from segmentation.draft import decode_full, make_draft

    source = tmp_path / name
    source.write_bytes(encode(fmt, size))

    assert cli(source, "--out", tmp_path / "out").exit_code == 0
    written = np.asarray(Image.open(tmp_path / "out" / (source.stem + ".png")))
    np.testing.assert_array_equal(written[..., :3], np.asarray(decode_full(source).image))
    np.testing.assert_array_equal(written[..., 3], np.asarray(make_draft(box_segmenter, source).mask))


def test_many_files_each_get_their_own_result_and_a_bad_one_between_them_stops_nothing(cli, tmp_path):
    names = [f"p{i}.png" for i in range(7)]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(encode("PNG", (40 + i, 30)))
    (tmp_path / "p3.png").write_text("broken")

    result = cli(*(tmp_path / name for name in names), "--out", tmp_path / "out", "--mask-only")

    assert result.exit_code != 0 and "skipped" in result.output and "p3.png" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [n for n in names if n != "p3.png"]
    for i, name in enumerate(names):
        if name != "p3.png":
            assert Image.open(tmp_path / "out" / name).size == (40 + i, 30)
