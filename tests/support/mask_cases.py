"""Generated hard cases for the mask tools: an image, the exact alpha it was made with, and a model's
plausible mistake. Used by the tests and by bench/operators.py."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MaskCase:
    image: np.ndarray  # H x W x 3 uint8
    exact_alpha: np.ndarray  # H x W uint8, what the subject really is
    model_mask: np.ndarray  # H x W uint8, the mistaken draft
    rim_px: int = 0


def disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    """A disc, anti-aliased over one pixel."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    distance = np.hypot(yy - centre[0], xx - centre[1])
    return (np.clip(radius + 0.5 - distance, 0, 1) * 255 + 0.5).astype(np.uint8)


def compose(alpha: np.ndarray, subject: tuple[int, int, int], background: tuple[int, int, int],
            noise: float = 2.0, seed: int = 0) -> np.ndarray:
    a = alpha[..., None].astype(np.float32) / 255
    image = a * np.array(subject, np.float32) + (1 - a) * np.array(background, np.float32)
    image += np.random.default_rng(seed).normal(0, noise, image.shape)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def light_rim_case(shape: tuple[int, int] = (160, 200), rim_px: int = 4) -> MaskCase:
    """A pale grey subject whose outer rim is nearly as light as the white background: the model
    saw only the darker middle and stopped `rim_px` short of the true edge all round."""
    centre, radius = (shape[0] / 2, shape[1] / 2), min(shape) * 0.35
    exact = disc(shape, centre, radius)
    middle = disc(shape, centre, radius - rim_px)
    image = compose(exact, (236, 236, 236), (250, 250, 250))
    image = np.minimum(image, compose(middle, (190, 190, 190), (255, 255, 255), noise=0))
    return MaskCase(image, exact, middle, rim_px)


def missed_arm_case(shape: tuple[int, int] = (200, 300)) -> MaskCase:
    """A red body with a thin red arm sticking out over a grey background; the model missed the arm."""
    body = disc(shape, (100, 100), 50)
    arm = np.zeros(shape, np.uint8)
    arm[95:105, 150:260] = 255  # 10 px thick
    exact = np.maximum(body, arm)
    image = compose(exact, (200, 40, 40), (120, 120, 130))
    return MaskCase(image, exact, body)


def extra_blob_case(shape: tuple[int, int] = (200, 300)) -> MaskCase:
    """A red body; the model also took a blue patch of background beside it."""
    exact = disc(shape, (100, 100), 50)
    blob = np.zeros(shape, np.uint8)
    blob[80:120, 140:190] = 255
    blob[exact > 0] = 0
    image = compose(exact, (200, 40, 40), (120, 120, 130))
    image[blob > 0] = (40, 60, 200)
    return MaskCase(image, exact, np.maximum(exact, blob))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 128, b >= 128
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def hair_case(shape: tuple[int, int] = (120, 160)) -> MaskCase:
    """A dark subject whose top edge is a fringe of thin hairs over a light background; the model's
    mask is a hard line through the fringe."""
    exact = np.zeros(shape, np.float32)
    exact[60:, :] = 1.0
    for x in range(4, shape[1], 6):  # hairs 2 px wide, 20 px long, half covering their pixels' width
        exact[40:60, x:x + 2] = 0.5
    exact_u8 = (exact * 255 + 0.5).astype(np.uint8)
    image = compose(exact_u8, (40, 30, 20), (230, 230, 220), noise=1.0)
    model = np.zeros(shape, np.uint8)
    model[55:, :] = 255
    return MaskCase(image, exact_u8, model)


def filled_hole_case(shape: tuple[int, int] = (200, 300)) -> MaskCase:
    """A red ring (a handle, a bag strap): the model filled the hole in the middle with subject."""
    outer = disc(shape, (100, 150), 70)
    hole = disc(shape, (100, 150), 35)
    exact = np.clip(outer.astype(np.int16) - hole, 0, 255).astype(np.uint8)
    image = compose(exact, (200, 40, 40), (120, 120, 130))
    return MaskCase(image, exact, outer)


def low_contrast_case(shape: tuple[int, int] = (200, 300)) -> MaskCase:
    """A beige product on a slightly lighter beige ground; the model's outline bulges into the
    background on one side and misses a bite of the subject on the other."""
    exact = disc(shape, (100, 150), 60)
    image = compose(exact, (196, 180, 150), (214, 200, 172), noise=3.0)
    model = np.maximum(exact, disc(shape, (100, 215), 22))  # a bulge of background on the right
    model = np.where(disc(shape, (100, 92), 18) >= 128, 0, model).astype(np.uint8)  # a bite on the left
    return MaskCase(image, exact, model)
