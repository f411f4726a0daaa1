"""masktools.cleanup: the pure algorithms behind the review page's cleanup tool."""
from __future__ import annotations

import numpy as np

from masktools.cleanup import Cleanup, clean


def _disc(shape, centre, radius, value=255):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.where((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2, value, 0).astype(np.uint8)


def _iou(a, b):
    a, b = a >= 128, b >= 128
    return (a & b).sum() / (a | b).sum()


def test_a_small_hole_is_filled_and_a_large_one_kept():
    mask = np.full((100, 200), 255, np.uint8)
    mask[10:13, 10:13] = 0  # 9 px
    mask[40:80, 120:180] = 0  # 2400 px

    out = clean(mask, Cleanup(fill_holes=50))

    assert (out[10:13, 10:13] == 255).all() and (out[40:80, 120:180] == 0).all()


def test_background_open_to_the_border_is_no_hole():
    mask = np.zeros((50, 50), np.uint8)
    mask[:, 25:] = 255

    assert (clean(mask, Cleanup(fill_holes=10_000)) == mask).all()


def test_small_islands_go_with_their_faint_fringe_and_the_subject_stays():
    mask = _disc((100, 100), (50, 50), 30)
    mask[5:8, 5:8] = 255
    mask[4, 5:8] = 60  # the speck's soft edge

    out = clean(mask, Cleanup(remove_islands=20))

    assert out[:10, :10].max() == 0
    assert (out[20:, 20:] == mask[20:, 20:]).all()


def test_keep_largest_keeps_that_many_parts():
    mask = _disc((100, 300), (50, 50), 40) | _disc((100, 300), (50, 150), 30) | _disc((100, 300), (50, 250), 20)

    out = clean(mask, Cleanup(keep_largest=2))

    assert out[50, 50] == 255 and out[50, 150] == 255 and out[50, 250] == 0


def test_keep_largest_zero_keeps_all():
    mask = _disc((100, 300), (50, 50), 40) | _disc((100, 300), (50, 250), 20)

    assert (clean(mask, Cleanup(keep_largest=0)) == mask).all()


def test_soft_edges_away_from_a_filled_hole_stay_as_they_were():
    mask = _disc((100, 100), (50, 50), 30)
    mask[20, 50] = 100  # a soft edge pixel
    mask[50, 50] = 0  # a one-pixel hole

    out = clean(mask, Cleanup(fill_holes=5))

    assert out[50, 50] == 255 and out[20, 50] == 100


def test_smoothing_removes_a_notch_from_the_outline():
    mask = np.zeros((100, 100), np.uint8)
    mask[20:80, 20:80] = 255
    mask[20:24, 48:52] = 0  # a 4x4 notch in the top edge

    out = clean(mask, Cleanup(smooth=8))

    assert out[22, 50] == 255


def test_growing_moves_the_outline_out_by_that_many_pixels():
    mask = _disc((100, 100), (50, 50), 20)

    out = clean(mask, Cleanup(grow=5))

    assert out[50, 75] == 255 and out[50, 77] == 0


def test_shrinking_moves_the_outline_in():
    mask = _disc((100, 100), (50, 50), 20)

    out = clean(mask, Cleanup(grow=-5))

    assert out[50, 64] == 255 and out[50, 67] == 0


def test_growing_gets_back_a_light_rim_the_model_missed_on_a_light_background():
    from tests.support.mask_cases import light_rim_case

    case = light_rim_case()

    grown = clean(case.model_mask, Cleanup(grow=case.rim_px))

    assert _iou(grown, case.exact_alpha) > _iou(case.model_mask, case.exact_alpha)
    assert _iou(grown, case.exact_alpha) > 0.98
