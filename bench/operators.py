"""The operator's mask tools, timed: per-call time of cleanup, refine and matte (p50, p95) on
generated images of 2 MP and 12 MP, and the IoU a refine reaches after 1, 2 and 3 strokes on the
generated hard cases (tests/support/mask_cases.py). The algorithms alone (masktools), no web or
storage: those add the PNG decode and encode of the mask and the original.

    .venv/bin/python bench/operators.py [--repeat 7]

(Not bench/operator.py, as issue 15 names it: run as a script, bench/ comes first on sys.path, and a
file of that name would stand in for the standard library's `operator` for every bench there.)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from masktools.cleanup import Cleanup, clean
from masktools.matte import matte_band
from masktools.refine import refine
from masktools.strokes import Stroke
from tests.support.mask_cases import compose, disc, extra_blob_case, iou, missed_arm_case

SIZES = {"2 MP": (1200, 1700), "12 MP": (3000, 4000)}


def timed(call, repeat: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return float(np.percentile(seconds, 50)), float(np.percentile(seconds, 95))


def speed(repeat: int) -> None:
    print("tool      size    p50 s   p95 s")
    for label, shape in SIZES.items():
        exact = disc(shape, (shape[0] / 2, shape[1] / 2), min(shape) * 0.35)
        image = compose(exact, (200, 40, 40), (120, 120, 130))
        mask = disc(shape, (shape[0] / 2, shape[1] / 2), min(shape) * 0.35 - 6)
        cy, cx, r = shape[0] // 2, shape[1] // 2, int(min(shape) * 0.35)
        edge_line = tuple((float(cx + r * np.cos(t)), float(cy + r * np.sin(t))) for t in np.linspace(0, 1, 40))
        calls = {
            # Bound as defaults: each lambda is timed within this loop pass, but say so to the linter.
            "cleanup": lambda m=mask: clean(m, Cleanup(fill_holes=500, remove_islands=500, smooth=3, grow=6)),
            "refine": lambda i=image, m=mask, e=edge_line: refine(i, m, [Stroke("keep", 8, e)]),
            "matte": lambda i=image, m=mask, e=edge_line: matte_band(i, m, Stroke("matte", 15, e)),
        }
        for name, call in calls.items():
            p50, p95 = timed(call, repeat)
            print(f"{name:9} {label:6} {p50:7.3f} {p95:7.3f}")


def strokes_to_iou() -> None:
    print("case        model  1 stroke  2 strokes  3 strokes")
    cases = {
        "missed arm": (missed_arm_case(), [Stroke("keep", 3, ((200, 100),)), Stroke("keep", 3, ((250, 100),)),
                                           Stroke("keep", 3, ((160, 100),))]),
        "extra blob": (extra_blob_case(), [Stroke("remove", 3, ((165, 100),)), Stroke("remove", 3, ((185, 85),)),
                                           Stroke("remove", 3, ((185, 115),))]),
    }
    for name, (case, strokes) in cases.items():
        mask, scores = case.model_mask, []
        for stroke in strokes:
            mask = refine(case.image, mask, [stroke])
            scores.append(iou(mask, case.exact_alpha))
        print(f"{name:10} {iou(case.model_mask, case.exact_alpha):6.3f}" + "".join(f"{s:10.3f}" for s in scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    strokes_to_iou()
    speed(args.repeat)


if __name__ == "__main__":
    main()
