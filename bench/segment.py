"""How much the draft job costs beyond the model itself.

    .venv/bin/python bench/segment.py [--runs N] [--model NAME] [--threads T]

Prints the floor (raw onnxruntime inference at the model size, median of N),
the whole draft job (decode -> model -> mask + preview written to a temp dir)
on 2 MP and 12 MP JPEGs made here, both as ms and as a ratio to the floor, and
the session load time against a second draft in the same process.
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
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmentation.draft import make_draft, save_draft  # noqa: E402
from segmentation.model_store import default_model_dir  # noqa: E402
from segmentation.sessions import Segmenter, configured_model_name, load_session  # noqa: E402

SIZES = {"2 MP": (1732, 1155), "12 MP": (4000, 3000)}
TARGETS = {"2 MP": 1.10, "12 MP": 1.25}


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
    args = parser.parse_args()

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

if __name__ == "__main__":
    main()
