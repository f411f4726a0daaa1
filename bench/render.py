"""What the final render costs, against the model's raw inference.

    .venv/bin/python bench/render.py [--runs N] [--model NAME] [--threads T]

Prints, in one run, the whole render (decode -> place -> compose -> encode,
and for JPEG the clipping path traced and embedded) at 2 MP and 12 MP for a
transparent PNG and for a JPEG on white with its clipping path, as the median
and the fastest of N interleaved runs. The inputs are made here: a photo-like
JPEG and a soft-edged product mask (drawn at the model's 1024 px and enlarged,
as a real draft is). When the segmentation package and its model file are
there, the model's raw inference at its input size is measured too (the floor
bench/segment.py reports) and each render is given as a ratio to it; the
target is a 12 MP render of at most 1x inference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segment import photo_like_jpeg  # noqa: E402

from rendering.clipping_path import trace  # noqa: E402
from rendering.options import parse_options  # noqa: E402
from rendering.render import render  # noqa: E402

SIZES = {"2 MP": (1732, 1155), "12 MP": (4000, 3000)}
CASES = {"PNG transparent": {}, "JPEG white + path": {"format": "jpg", "background": "white"}}


def product_mask(size: tuple[int, int], model_side: int = 1024) -> Image.Image:
    """A bottle-and-box outline with a handle hole, soft at model resolution, enlarged to ``size``."""
    w, h = size
    k = model_side / max(w, h)
    small = Image.new("L", (round(w * k), round(h * k)), 0)
    d = ImageDraw.Draw(small)
    sw, sh = small.size
    d.ellipse([0.15 * sw, 0.15 * sh, 0.6 * sw, 0.9 * sh], fill=255)
    d.ellipse([0.3 * sw, 0.35 * sh, 0.45 * sw, 0.55 * sh], fill=0)
    d.polygon([(0.62 * sw, 0.2 * sh), (0.9 * sw, 0.3 * sh), (0.85 * sw, 0.9 * sh), (0.6 * sw, 0.8 * sh)], fill=255)
    small = small.filter(ImageFilter.GaussianBlur(1.2))
    return small.resize(size, Image.Resampling.BILINEAR)


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def raw_inference_hook(model: str | None, threads: int | None) -> tuple[Callable[[], float], str] | None:
    """The model's floor: (a function timing one session.run in ms, a label), or None without a model.

    Uses segmentation.sessions.load_session when that package and the model
    file are present (the same measurement as bench/segment.py's floor).
    """
    try:
        from segmentation.model_store import default_model_dir
        from segmentation.sessions import configured_model_name, load_session

        segmenter = load_session(model or configured_model_name(), default_model_dir(), threads)
    except Exception as exc:  # noqa: BLE001 - no package, no model file, or a model that does not load
        print(f"raw inference: not measured ({type(exc).__name__}: {exc})")
        return None
    family = segmenter.family
    size = segmenter.input_size
    feed = {family.input_name: np.random.default_rng(1).random((1, 3, size, size), np.float32) - 0.5}
    family.session.run([family.output_name], feed)  # warm-up

    def once() -> float:
        start = time.perf_counter()
        family.session.run([family.output_name], feed)
        return ms_since(start)

    return once, f"{segmenter.model_name} at {size}²"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    inputs = {label: (photo_like_jpeg(size), product_mask(size)) for label, size in SIZES.items()}
    inference = raw_inference_hook(args.model, args.threads)
    options = {case: parse_options(raw) for case, raw in CASES.items()}
    for _label, (original, mask) in inputs.items():  # warm-up: imports, first allocations
        render(original, mask, options["JPEG white + path"])

    times: dict[tuple[str, str], list[float]] = {(c, s): [] for c in CASES for s in SIZES}
    traces: dict[str, list[float]] = {s: [] for s in SIZES}
    floor: list[float] = []
    for _ in range(args.runs):  # interleaved, so drift from other load hits every row alike
        if inference:
            floor.append(inference[0]())
        for label, (original, mask) in inputs.items():
            for case in CASES:
                start = time.perf_counter()
                render(original, mask, options[case])
                times[case, label].append(ms_since(start))
            start = time.perf_counter()
            trace(mask)
            traces[label].append(ms_since(start))
    report(times, traces, floor, inference[1] if inference else None, args.runs)


def report(times, traces, floor: list[float], model: str | None, runs: int) -> None:
    base = statistics.median(floor) if floor else None
    print(f"\nfinal render, {runs} runs each (median, fastest)" +
          (f"; floor = raw inference of {model}" if model else ""))
    if base:
        print(f"{'raw inference (floor)':<34}{base:7.0f} ms {min(floor):7.0f} ms   1.00x")
    for (case, label), runs_ms in times.items():
        median = statistics.median(runs_ms)
        ratio = f"   {median / base:4.2f}x" + ("   target <= 1.00x" if label == "12 MP" else "") if base else ""
        print(f"{case + ' ' + label:<34}{median:7.0f} ms {min(runs_ms):7.0f} ms{ratio}")
    for label, runs_ms in traces.items():
        print(f"{'  trace alone (in JPEG) ' + label:<34}{statistics.median(runs_ms):7.0f} ms {min(runs_ms):7.0f} ms")


if __name__ == "__main__":
    main()
