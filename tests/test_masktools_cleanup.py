"""masktools.cleanup: the pure algorithms behind the review page's cleanup tool."""
from __future__ import annotations

import numpy as np
import pytest

from masktools.cleanup import Cleanup, clean, grow, smooth


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


# --- smooth and grow work only near the outline: the same result as on the whole image ---------


def _whole_image_smooth(mask: np.ndarray, radius: float) -> np.ndarray:
    """smooth() as it was, on every pixel."""
    from scipy import ndimage

    sigma = radius / 2
    blurred = ndimage.gaussian_filter((mask >= 128).astype(np.float32), sigma)
    steepness = max(1.0, np.sqrt(2 * np.pi) * sigma)
    return (np.clip((blurred - 0.5) * steepness + 0.5, 0, 1) * 255 + 0.5).astype(np.uint8)


def _whole_image_grow(mask: np.ndarray, distance: float) -> np.ndarray:
    """grow() as it was, on every pixel."""
    from masktools.cleanup import signed_distance

    return (np.clip(signed_distance(mask >= 128) + distance + 0.5, 0, 1) * 255 + 0.5).astype(np.uint8)


def _blobs(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Random blobs with soft edges, touching the image border, sizes not multiples of the tile."""
    from scipy import ndimage

    noise = np.random.default_rng(seed).random(shape).astype(np.float32)
    field = ndimage.gaussian_filter(noise, 12)
    field = (field - field.mean()) / field.std()
    return (np.clip(field * 2 + 0.5, 0, 1) * 255).astype(np.uint8)


@pytest.mark.parametrize("radius", [0.5, 3, 7.5, 40, 100])
def test_smoothing_near_the_outline_only_equals_smoothing_the_whole_image(radius):
    for seed, shape in enumerate([(300, 517), (129, 1000), (700, 260)]):
        mask = _blobs(shape, seed)
        np.testing.assert_array_equal(smooth(mask, radius), _whole_image_smooth(mask, radius))


@pytest.mark.parametrize("distance", [-100, -30, -6.5, -1, 0.25, 1, 6, 47.5, 100])
def test_growing_near_the_outline_only_equals_growing_the_whole_image(distance):
    for seed, shape in enumerate([(300, 517), (129, 1000), (700, 260)]):
        mask = _blobs(shape, seed)
        np.testing.assert_array_equal(grow(mask, distance), _whole_image_grow(mask, distance))


@pytest.mark.parametrize("value", [0, 255])
def test_a_mask_of_one_level_stays_as_it_is(value):
    mask = np.full((200, 300), value, np.uint8)
    for out in (smooth(mask, 5), grow(mask, 5), grow(mask, -5)):
        np.testing.assert_array_equal(out, mask)
