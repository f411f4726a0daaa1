"""masktools.matte: soft alpha inside the brushed band, nothing changed outside it."""
from __future__ import annotations

import numpy as np

from masktools.matte import matte_band
from masktools.strokes import Stroke, draw
from tests.support.mask_cases import hair_case

BAND = Stroke("matte", 12, ((0, 52), (159, 52)))


def _error(mask, exact):
    return np.abs(mask.astype(float) - exact.astype(float)).mean()


def test_matting_a_band_over_hair_brings_the_alpha_close_to_the_exact_one():
    case = hair_case()

    out = matte_band(case.image, case.model_mask, BAND)

    assert _error(out, case.exact_alpha) < _error(case.model_mask, case.exact_alpha) / 10


def test_matting_gives_soft_alpha_to_the_hairs():
    case = hair_case()

    out = matte_band(case.image, case.model_mask, BAND)

    assert 64 < out[50, 4] < 192


def test_pixels_outside_the_band_stay_identical():
    case = hair_case()

    out = matte_band(case.image, case.model_mask, BAND)

    outside = ~draw([BAND], case.model_mask.shape)
    assert (out[outside] == case.model_mask[outside]).all()


def test_a_band_with_no_background_beside_it_changes_nothing():
    case = hair_case()

    out = matte_band(case.image, case.model_mask, Stroke("matte", 5, ((80, 100),)))

    assert (out == case.model_mask).all()
