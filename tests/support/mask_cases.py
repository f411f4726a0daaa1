"""Generated hard cases for the mask tools: an image, the exact alpha it was made with, and a model's
plausible mistake. Used by the tests and by bench/operator.py."""
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
