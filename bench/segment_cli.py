"""What a whole `flask --app app segment` process costs beyond its model runs.

    .venv/bin/python bench/segment_cli.py [--images 8] [--runs 3] [--redis-url URL]

Makes N photo-like 2 MP JPEGs (bench/segment.py's generator) and prints:
- raw inference per image: session.run of the configured model on those images'
  tensors in this process, warm (median);
- the whole `flask --app app segment` process on the N images, wall and CPU, with the
  optimized-model cache cold (built by this run), warm, and off (cache folder unwritable),
  each as a ratio to N x raw inference (the issue's bound: <= 1.25);
- the same with the embedded Redis (REDIS_URL unset) when --redis-url is given, since
  create_app starts it.
The model is linked into a temporary MODEL_DIR so the cache there starts empty; runs are
interleaved so other load on the machine hits every row alike.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from segment import photo_like_jpeg  # noqa: E402

from segmentation import optimized_cache  # noqa: E402
from segmentation.draft import decode_for_model  # noqa: E402
from segmentation.model_store import default_model_dir, model_spec  # noqa: E402
from segmentation.sessions import configured_model_name, load_session  # noqa: E402

SIZE_2MP = (1732, 1155)
BOUND = 1.25


def model_dir_copy(source_dir: Path, name: str, dest: Path, cache: bool) -> Path:
    """A MODEL_DIR holding only the model (hard-linked when possible) and its hash sidecar."""
    spec = model_spec(name, source_dir)
    dest.mkdir(parents=True)
    for filename in (spec.filename, spec.filename + ".sha256", "models.json"):
        src = source_dir / filename
        if not src.exists():
            continue
        try:
            os.link(src, dest / filename)
        except OSError:
            shutil.copy2(src, dest / filename)
    if not cache:
        (dest / optimized_cache.DIRNAME).write_text("a file: the cache cannot be written, so it is off\n")
    return dest


def run_cli(images: list[Path], out: Path, env: dict[str, str], root: Path = ROOT) -> tuple[float, float]:
    """(wall s, CPU s) of one whole `flask --app app segment` process."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "app", "segment",
                    *map(str, images), "--out", str(out)], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def raw_inference_s(seg, tensors: list[np.ndarray]) -> list[float]:
    times = []
    for tensor in tensors:
        start = time.perf_counter()
        seg.family.session.run([seg.family.output_name], {seg.family.input_name: tensor})
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default=configured_model_name())
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--redis-url", default=None,
                        help="an external Redis for the main rows; embedded rows are added beside them")
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout (e.g. `git archive` of an older commit) to time alike")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="segment-cli-bench-") as tmp:
        work = Path(tmp)
        images = []
        for i in range(args.images):
            images.append(work / f"photo-{i}.jpg")
            images[-1].write_bytes(photo_like_jpeg(SIZE_2MP, seed=i))
        cached_dir = model_dir_copy(args.model_dir, args.model, work / "models", cache=True)
        uncached_dir = model_dir_copy(args.model_dir, args.model, work / "models-nocache", cache=False)
        base_env = {**os.environ, "SEGMENTATION_MODEL": args.model, "INSTANCE_DIR": str(work / "instance")}
        base_env.pop("REDIS_URL", None)
        redis_envs = {"embedded": base_env}
        if args.redis_url:
            redis_envs = {"external": {**base_env, "REDIS_URL": args.redis_url}, **redis_envs}

        # Raw inference, as the bound means it: the model's session.run on these images, warm.
        seg = load_session(args.model, uncached_dir)
        tensors = [seg.prepare(decode_for_model(p, seg.input_size).image) for p in images]
        raw_inference_s(seg, tensors[:1])
        threads = seg.family.session.get_session_options().intra_op_num_threads

        rows: dict[str, list[tuple[float, float]]] = {}
        raw: list[float] = []
        for run in range(args.runs):
            raw += raw_inference_s(seg, tensors)
            for redis, env in redis_envs.items():
                if run == 0:  # cold: this process builds the cache
                    shutil.rmtree(cached_dir / optimized_cache.DIRNAME, ignore_errors=True)
                    rows.setdefault(f"cache cold, {redis} Redis", []).append(
                        run_cli(images, work / "out", {**env, "MODEL_DIR": str(cached_dir)}))
                rows.setdefault(f"cache warm, {redis} Redis", []).append(
                    run_cli(images, work / "out", {**env, "MODEL_DIR": str(cached_dir)}))
                rows.setdefault(f"cache off, {redis} Redis", []).append(
                    run_cli(images, work / "out", {**env, "MODEL_DIR": str(uncached_dir)}))
                if args.before:
                    rows.setdefault(f"--before, {redis} Redis", []).append(
                        run_cli(images, work / "out", {**env, "MODEL_DIR": str(uncached_dir)}, args.before))

    per_image = statistics.median(raw)
    floor = per_image * args.images
    print(f"model {args.model}, {threads} intra-op threads, {args.images} photos of 2 MP, {args.runs} runs")
    print(f"{'raw inference per image':<34}{per_image:7.2f} s   (median of {len(raw)}; min {min(raw):.2f} s)")
    print(f"{f'{args.images} x raw inference':<34}{floor:7.2f} s")
    print(f"\n{'flask segment, whole process':<34}{'wall':>7} {'/floor':>7} {'CPU':>8}   bound <= {BOUND:.2f}x")
    for label, times in rows.items():
        wall = statistics.median(t for t, _ in times)
        cpu = statistics.median(c for _, c in times)
        print(f"{label:<34}{wall:6.2f} s {wall / floor:6.2f}x {cpu:7.2f} s"
              + ("" if len(times) > 1 else "   (one run)"))


if __name__ == "__main__":
    main()
