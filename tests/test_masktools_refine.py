"""masktools.refine: keep/remove markers re-solve the mask near the strokes, and along the draft's
outline where a stroke touches a mistake that runs on along it; nowhere else."""
from __future__ import annotations

import numpy as np

from masktools.refine import MIN_REACH_PX, refine
from masktools.strokes import Stroke
from tests.support.mask_cases import extra_blob_case, iou, light_rim_case, missed_arm_case


def test_a_keep_stroke_on_a_missed_thin_part_adds_the_part():
    case = missed_arm_case()

    out = refine(case.image, case.model_mask, [Stroke("keep", 3, ((200, 100),))])

    assert iou(out, case.exact_alpha) > 0.98 > iou(case.model_mask, case.exact_alpha)


def test_a_remove_stroke_on_wrongly_kept_background_takes_it_out():
    case = extra_blob_case()

    out = refine(case.image, case.model_mask, [Stroke("remove", 3, ((165, 100),))])

    assert iou(out, case.exact_alpha) > 0.99 > iou(case.model_mask, case.exact_alpha)


def test_a_stroke_changes_nothing_farther_than_its_reach():
    case = missed_arm_case()
    stroke = Stroke("keep", 3, ((250, 100),))

    out = refine(case.image, case.model_mask, [stroke])

    yy, xx = np.mgrid[: out.shape[0], : out.shape[1]]
    far = np.hypot(xx - 250, yy - 100) > MIN_REACH_PX + stroke.radius + 1
    assert (out[far] == case.model_mask[far]).all()


def test_a_stroke_on_one_side_leaves_the_other_side_s_edge_alone():
    # The model's edge on the left of the body is off by a few px: a keep stroke on the missed arm
    # (right) must not re-decide it.
    case = missed_arm_case()
    mask = case.model_mask.copy()
    mask[:, :55] = 0

    out = refine(case.image, mask, [Stroke("keep", 3, ((230, 100),))])

    assert (out[:, :150] == mask[:, :150]).all() and out[100, 230] == 255


def test_a_keep_stroke_is_subject_whatever_the_colours_say():
    case = missed_arm_case()

    out = refine(case.image, case.model_mask, [Stroke("keep", 4, ((20, 20), (40, 20)))])

    assert out[20, 30] == 255


def test_one_keep_marker_on_a_light_rim_missed_all_round_brings_the_whole_rim():
    case = light_rim_case()
    rim_point = (100.0, 80.0 - 56 + 2)  # inside the 4 px rim, at the top of the subject

    out = refine(case.image, case.model_mask, [Stroke("keep", 1, (rim_point,))])

    assert iou(out, case.exact_alpha) > 0.98 > iou(case.model_mask, case.exact_alpha)


def test_a_keep_marker_deep_inside_the_subject_changes_no_pixel():
    case = light_rim_case()

    out = refine(case.image, case.model_mask, [Stroke("keep", 6, ((100, 80),))])

    assert (out == case.model_mask).all()


def test_a_remove_marker_far_out_in_the_background_changes_no_pixel():
    case = missed_arm_case()

    out = refine(case.image, case.model_mask, [Stroke("remove", 6, ((280, 180),))])

    assert (out == case.model_mask).all()


def test_a_small_keep_marker_on_an_edge_does_not_bring_back_background_it_grazes():
    # The blob is gone; a 1 px keep dab on the body's edge also covers a pixel of the blue blob.
    case = extra_blob_case()
    mask = refine(case.image, case.model_mask, [Stroke("remove", 12, ((170, 99),))])

    out = refine(case.image, mask, [Stroke("keep", 1, ((148, 86),))])

    assert iou(out, case.exact_alpha) > 0.99
