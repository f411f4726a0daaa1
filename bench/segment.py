"""How much the draft job costs beyond the model itself, and what the cheaper variants buy.

    .venv/bin/python bench/segment.py [--runs N] [--model NAME] [--threads T]
                                      [--variants all|NAME,…|none] [--composites N] [--detailed N]

Prints the floor (raw onnxruntime inference at the model size, median of N),
the whole draft job (decode -> model -> mask + preview written to a temp dir)
on 2 MP and 12 MP JPEGs made here, both as ms and as a ratio to the floor, and
the session load time against a second draft in the same process.

Then, in the same run on the same images, the variants (segmentation.variants; every one
produced in the model dir with `fetch-model --variant NAME`, or those named): raw inference
of the fp32 default, each variant's raw inference and 2 MP draft job time (also as a ratio
to the fp32 raw inference), and its IoU against the exact alpha on product composites made
here (segmentation.calibration's generator, a seed the calibration never uses): mean, worst,
and the worst drop against fp32 on one composite. Target: job <= 0.5x fp32 raw, mean IoU
within 0.01 of fp32, no composite more than 0.02 worse.
The calibration generator's subjects are smooth shapes, which a mask made at a quarter of the
input resolution can still outline; so each variant is also scored on detailed composites at
2 MP (a bag with a thin handle loop, a hanging cable, a fringe of 1-3 px strands: what a smaller
input loses first), by IoU and by Boundary IoU (Cheng et al., 2021: IoU of the bands within
0.5 % of the diagonal inside each mask's outline, which counts a lost strand or a rounded corner
that whole-mask IoU hides). Same target on both sets for IoU; boundary IoU is reported.
Runs are interleaved so drift from other load on the machine hits every row alike,
and each job also reports its own overhead (job time minus the session.run inside
it), which stays meaningful when other processes slow the model down.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmentation import calibration, variants  # noqa: E402
from segmentation.draft import make_draft, save_draft  # noqa: E402
from segmentation.model_store import DEFAULT_MODEL, ModelError, default_model_dir, model_spec  # noqa: E402
from segmentation.sessions import Segmenter, configured_model_name, load_session  # noqa: E402

SIZES = {"2 MP": (1732, 1155), "12 MP": (4000, 3000)}
TARGETS = {"2 MP": 1.10, "12 MP": 1.25}
# Composites for IoU: a seed the calibration (segmentation.variants) never draws from.
COMPOSITE_SEED = 7
COMPOSITE_SIZE = (800, 600)
DETAILED_SIZE = SIZES["2 MP"]
BOUNDARY_BAND = 0.005  # of the image diagonal
TARGET_SPEED, TARGET_MEAN_DROP, TARGET_CASE_DROP = 0.5, 0.01, 0.02


def photo_like_jpeg(size: tuple[int, int], seed: int = 0) -> bytes:
    """Smooth colour regions plus sensor-like grain: decodes like a photo, unlike a flat fill."""
    w, h = size
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (h // 24 + 1, w // 24 + 1, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((w, h), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-6, 7, (h, w, 1), dtype=np.int16)
    out = io.BytesIO()
    Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class TimedSession:
    """Wraps the InferenceSession to time each run() made inside a draft job."""

    def __init__(self, session) -> None:
        self.session = session
        self.last_ms = 0.0

    def run(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.session.run(*args, **kwargs)
        finally:
            self.last_ms = ms_since(start)


def raw_inference_ms(seg: Segmenter) -> float:
    family = seg.family
    size = seg.input_size
    feed = {family.input_name: np.random.default_rng(1).random((1, 3, size, size), np.float32) - 0.5}
    family.session.run([family.output_name], feed)
    return family.session.last_ms


def draft_job_ms(seg: Segmenter, source: bytes, workdir: Path) -> tuple[float, float]:
    """(whole job ms, job ms minus the model's own session.run)."""
    start = time.perf_counter()
    draft = make_draft(seg, source)
    save_draft(draft, source, workdir / "mask.png", workdir / "preview.jpg")
    total = ms_since(start)
    return total, total - seg.family.session.last_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=configured_model_name())
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--variants", default="all",
                        help="'all' (every variant produced in the model dir), a comma list, or 'none'")
    parser.add_argument("--composites", type=int, default=10)
    parser.add_argument("--detailed", type=int, default=5, help="detailed 2 MP composites (0: none)")
    parser.add_argument("--skip-overhead", action="store_true", help="only the variants table")
    args = parser.parse_args()
    if not args.skip_overhead:
        overhead(args)
    names = chosen_variants(args.variants, args.model_dir)
    if names:
        compare_variants(names, args)


def overhead(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    seg = load_session(args.model, args.model_dir, args.threads)
    load_ms = ms_since(start)
    sources = {label: photo_like_jpeg(size) for label, size in SIZES.items()}
    threads = seg.family.session.get_session_options().intra_op_num_threads
    seg.family.session = TimedSession(seg.family.session)
    print(f"model {args.model} ({seg.path}), {seg.input_size}², {threads} threads, {args.runs} runs each")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        first = draft_job_ms(seg, sources["2 MP"], workdir)  # also warms the session up
        second = draft_job_ms(seg, sources["2 MP"], workdir)
        raw: list[float] = []
        jobs: dict[str, list[tuple[float, float]]] = {label: [] for label in SIZES}
        for _ in range(args.runs):
            raw.append(raw_inference_ms(seg))
            for label, source in sources.items():
                jobs[label].append(draft_job_ms(seg, source, workdir))

    report_ratios(raw, jobs)
    print(f"\n{'session load (first)':<22}{load_ms:6.0f} ms   verify cached hash + create session")
    for label, (total, extra) in (("first draft 2 MP", first), ("second draft 2 MP", second)):
        print(f"{label:<22}{total:6.0f} ms   of which {extra:.0f} ms outside the model run")
    print("(a reload inside a draft would show as ~load time outside the model run)")


def report_ratios(raw: list[float], jobs: dict[str, list[tuple[float, float]]]) -> None:
    floor, best = statistics.median(raw), min(raw)
    print(f"\n{'':<22}{'median':>9} {'/floor':>7} {'min':>9} {'/min':>6} {'overhead':>9} {'(floor+ovh)/floor':>18}")
    print(f"{'raw inference (floor)':<22}{floor:6.0f} ms {1:6.2f}x {best:6.0f} ms {1:5.2f}x")
    for label, runs in jobs.items():
        total = statistics.median(t for t, _ in runs)
        fastest = min(t for t, _ in runs)
        extra = statistics.median(o for _, o in runs)
        print(
            f"{'draft job ' + label:<22}{total:6.0f} ms {total / floor:6.2f}x {fastest:6.0f} ms"
            f" {fastest / best:5.2f}x {extra:6.0f} ms {(floor + extra) / floor:12.3f}x"
            f"   target <= {TARGETS[label]:.2f}x"
        )


def chosen_variants(choice: str, model_dir: Path) -> list[str]:
    if choice == "none":
        return []
    if choice != "all":
        return [name.strip() for name in choice.split(",") if name.strip()]
    produced = []
    for name in variants.VARIANTS:
        try:
            model_spec(name, model_dir)
        except ModelError:
            print(f"(variant {name} not produced: flask --app app fetch-model --variant {name})")
            continue
        produced.append(name)
    return produced


def composites(count: int) -> list[tuple[bytes, np.ndarray]]:
    """(JPEG as a customer would send it, exact alpha >= 50 %) per composite."""
    out = []
    for index in range(count):
        picture, mask = calibration.product_shot(index, COMPOSITE_SIZE, seed=COMPOSITE_SEED)
        jpeg = io.BytesIO()
        picture.save(jpeg, "JPEG", quality=92)
        out.append((jpeg.getvalue(), np.asarray(mask) >= 128))
    return out


def detailed_composite(index: int, size: tuple[int, int] = DETAILED_SIZE) -> tuple[bytes, np.ndarray]:
    """A product with the parts a coarse mask loses: a thin handle loop (background shows through
    it), a 3 px cable to the frame's edge and a fringe of 1-3 px strands; JPEG and exact mask."""
    rng = np.random.default_rng([COMPOSITE_SEED, 1000 + index])
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.5, 0.6)
    rx, ry = w * rng.uniform(0.15, 0.22), h * rng.uniform(0.18, 0.25)
    draw.rounded_rectangle((cx - rx, cy - ry * 0.3, cx + rx, cy + ry), rx * 0.15, fill=255)
    handle = max(3, round(min(size) * rng.uniform(0.004, 0.008)))
    draw.arc((cx - rx * 0.6, cy - ry * 1.3, cx + rx * 0.6, cy + ry * 0.7), 180, 360, fill=255, width=handle)
    draw.line((cx + rx, cy + ry * 0.5, w, cy + ry * rng.uniform(0.6, 0.9)), fill=255, width=3)
    for x in np.linspace(cx - rx * 0.9, cx - rx * 0.1, 24):  # strands hanging from the body's left top
        length = h * rng.uniform(0.04, 0.1)
        angle = rng.uniform(-0.4, 0.4)
        end = (x + length * np.sin(angle), cy - ry * 0.3 - length * np.cos(angle))
        draw.line((x, cy - ry * 0.3, *end), fill=255, width=int(rng.integers(1, 4)))
    kind = calibration.BACKGROUNDS[index % len(calibration.BACKGROUNDS)]
    picture = calibration.background(kind, size, rng)
    picture.paste(calibration.shaded(mask, rng), mask=mask)
    jpeg = io.BytesIO()
    picture.save(jpeg, "JPEG", quality=92)
    return jpeg.getvalue(), np.asarray(mask) >= 128


def iou(mask: Image.Image, truth: np.ndarray) -> float:
    got = np.asarray(mask) >= 128
    union = np.count_nonzero(got | truth)
    return np.count_nonzero(got & truth) / union if union else 1.0


def boundary_iou(mask: Image.Image, truth: np.ndarray) -> float:
    got = np.asarray(mask) >= 128
    band = BOUNDARY_BAND * float(np.hypot(*truth.shape))
    inner_got = got & (ndimage.distance_transform_edt(got) <= band)
    inner_truth = truth & (ndimage.distance_transform_edt(truth) <= band)
    union = np.count_nonzero(inner_got | inner_truth)
    return np.count_nonzero(inner_got & inner_truth) / union if union else 1.0


def compare_variants(names: list[str], args: argparse.Namespace) -> None:
    models = [DEFAULT_MODEL, *[n for n in names if n != DEFAULT_MODEL]]
    sessions = {}
    for name in models:
        seg = load_session(name, args.model_dir, args.threads)
        seg.family.session = TimedSession(seg.family.session)
        sessions[name] = seg
    shots = composites(args.composites)
    source = photo_like_jpeg(SIZES["2 MP"])
    scores = {name: [iou(make_draft(seg, jpeg).mask, truth) for jpeg, truth in shots]
              for name, seg in sessions.items()}
    detailed = [detailed_composite(index) for index in range(args.detailed)]
    detailed_masks = {name: [make_draft(seg, jpeg).mask for jpeg, _ in detailed] for name, seg in sessions.items()}
    raw: dict[str, list[float]] = {name: [] for name in models}
    jobs: dict[str, list[float]] = {name: [] for name in models}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):  # interleaved: drift hits every model alike
            for name, seg in sessions.items():
                raw[name].append(raw_inference_ms(seg))
                jobs[name].append(draft_job_ms(seg, source, Path(tmp))[0])
    floor = statistics.median(raw[DEFAULT_MODEL])
    base = np.array(scores[DEFAULT_MODEL])
    print(f"\nvariants: {args.runs} runs each, IoU on {len(shots)} composites {COMPOSITE_SIZE[0]}x{COMPOSITE_SIZE[1]}"
          f" (seed {COMPOSITE_SEED}); fp32 raw inference {floor:.0f} ms = 1.00x")
    print(f"{'model':<18}{'size':>6}{'raw ms':>9}{'job 2 MP':>10}{'job/fp32 raw':>14}"
          f"{'IoU mean':>10}{'worst':>8}{'Δmean':>8}{'worst Δ':>9}  target")
    for name in models:
        seg, got = sessions[name], np.array(scores[name])
        job = statistics.median(jobs[name])
        drop = base - got
        meets = (job / floor <= TARGET_SPEED and base.mean() - got.mean() <= TARGET_MEAN_DROP
                 and drop.max() <= TARGET_CASE_DROP)
        verdict = "-" if name == DEFAULT_MODEL else ("met" if meets else "not met")
        print(f"{name:<18}{seg.input_size:>6}{statistics.median(raw[name]):>9.0f}{job:>10.0f}{job / floor:>13.2f}x"
              f"{got.mean():>10.4f}{got.min():>8.4f}{got.mean() - base.mean():>+8.4f}{-drop.max():>+9.4f}  {verdict}")
    print("IoU per composite: " + "; ".join(
        f"{name} {np.round(scores[name], 3).tolist()}" for name in models))
    if detailed:
        fast = {name: statistics.median(jobs[name]) / floor <= TARGET_SPEED for name in models}
        report_detailed(models, detailed, detailed_masks, fast)


def report_detailed(models: list[str], detailed: list[tuple[bytes, np.ndarray]],
                    masks: dict[str, list[Image.Image]], fast: dict[str, bool]) -> None:
    """The variants on the detailed composites; the verdict is the whole target (speed from the
    first table, IoU from this one)."""
    truths = [truth for _, truth in detailed]
    whole = {name: np.array([iou(m, t) for m, t in zip(masks[name], truths, strict=True)]) for name in models}
    edge = {name: np.array([boundary_iou(m, t) for m, t in zip(masks[name], truths, strict=True)]) for name in models}
    base, base_edge = whole[DEFAULT_MODEL], edge[DEFAULT_MODEL]
    w, h = DETAILED_SIZE
    print(f"\ndetailed composites: {len(detailed)} at {w}x{h} (handle loop, cable, 1-3 px strands); "
          f"boundary IoU within {BOUNDARY_BAND:.1%} of the diagonal")
    print(f"{'model':<18}{'IoU mean':>10}{'worst':>8}{'Δmean':>8}{'worst Δ':>9}"
          f"{'bIoU mean':>11}{'worst':>8}{'Δmean':>8}{'worst Δ':>9}  target")
    for name in models:
        got, got_edge = whole[name], edge[name]
        drop = base - got
        meets = fast[name] and base.mean() - got.mean() <= TARGET_MEAN_DROP and drop.max() <= TARGET_CASE_DROP
        verdict = "-" if name == DEFAULT_MODEL else ("met" if meets else "not met")
        print(f"{name:<18}{got.mean():>10.4f}{got.min():>8.4f}{got.mean() - base.mean():>+8.4f}{-drop.max():>+9.4f}"
              f"{got_edge.mean():>11.4f}{got_edge.min():>8.4f}{got_edge.mean() - base_edge.mean():>+8.4f}"
              f"{-(base_edge - got_edge).max():>+9.4f}  {verdict}")


if __name__ == "__main__":
    main()
