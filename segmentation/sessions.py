"""Model families (pre/post-processing per network) and the one onnxruntime session a worker holds.

Like rembg's sessions/: one small class per family, looked up by name. A named
model (built in or added) says which family, file and SHA-256 it is; the worker
picks one with SEGMENTATION_MODEL and loads it once at start.
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime as ort
from PIL import Image

from segmentation import optimized_cache
from segmentation import providers as providers_of
from segmentation.model_store import (
    DEFAULT_MODEL,
    ModelError,
    default_model_dir,
    model_spec,
    verify_model_file,
)


class ModelFamily:
    """Pre/post-processing shared by every model of one network family.

    An instance wraps one InferenceSession. ``input_size`` is the family's usual
    square input, replaced by the model's own when its input shape is static, so
    a family also serves smaller exports of the same network.
    """

    name: ClassVar[str] = ""
    input_size: int = 0
    mean: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    std: ClassVar[tuple[float, float, float]] = (1.0, 1.0, 1.0)
    resample: ClassVar[Image.Resampling] = Image.Resampling.BILINEAR
    # Below this output spread a min-max stretch would turn noise into a mask
    # (a crop wholly inside or outside the subject), so we only clip instead.
    min_spread: ClassVar[float] = 0.5

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        first_in = session.get_inputs()[0]
        self.input_name = first_in.name
        self.output_name = session.get_outputs()[0].name
        shape = first_in.shape
        if len(shape) == 4 and isinstance(shape[2], int) and shape[2] == shape[3]:
            self.input_size = shape[2]

    def normalize(self, rgb: Image.Image) -> np.ndarray:
        """RGB image -> float32 [1, 3, S, S], scaled to 0..1 then (x - mean) / std."""
        size = (self.input_size, self.input_size)
        im = rgb if rgb.size == size else rgb.resize(size, self.resample)
        out = np.empty((1, 3, *size[::-1]), dtype=np.float32)
        # Channel by channel into one preallocated tensor: no HWC float copy to transpose.
        for c, band in enumerate(im.convert("RGB").split()):
            np.multiply(np.asarray(band), np.float32(1.0 / (255.0 * self.std[c])), out=out[0, c])
            out[0, c] -= np.float32(self.mean[c] / self.std[c])
        return out

    def postprocess(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        """First output -> float32 HxW in 0..1, min-max normalised as rembg does.

        Unlike rembg we skip the stretch when the output barely varies (see
        ``min_spread``): then the model saw no edge, and stretching would invent one.
        """
        pred = np.asarray(outputs[0], dtype=np.float32).reshape(outputs[0].shape[-2:])
        lo, hi = float(pred.min()), float(pred.max())
        if hi - lo >= self.min_spread:
            pred = (pred - lo) * (1.0 / (hi - lo))
        return np.clip(pred, 0.0, 1.0, out=pred)

    def predict(self, rgb: Image.Image) -> np.ndarray:
        """Mask probabilities at model size (float32 0..1, input_size x input_size)."""
        return self.run(self.normalize(rgb))

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """predict() after normalize(): the part that needs the session."""
        # Ask for the first output only: ISNet also exports side outputs we do not use.
        return self.postprocess(self.session.run([self.output_name], {self.input_name: tensor}))


class IsnetFamily(ModelFamily):
    """ISNet / DIS (IS-Net general use): 1024², RGB/255 - 0.5, std 1, sigmoid output."""

    name = "isnet"
    input_size = 1024
    mean = (0.5, 0.5, 0.5)
    std = (1.0, 1.0, 1.0)


FAMILIES: dict[str, type[ModelFamily]] = {cls.name: cls for cls in (IsnetFamily,)}


def get_family(name: str) -> type[ModelFamily]:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ModelError(
            f"unknown model family {name!r}; known: {', '.join(sorted(FAMILIES))}"
        ) from None


@dataclass
class Segmenter:
    """What a worker keeps for its whole life: one session of one verified model."""

    model_name: str
    path: Path
    family: ModelFamily
    load_ms: float
    pid: int = field(default_factory=os.getpid)
    # How the optimized-model cache served this session (optimized_cache.HIT, BUILT, …).
    optimized: str = optimized_cache.OFF

    @property
    def providers(self) -> list[str]:
        """The execution providers the session actually runs on, preferred first."""
        return list(self.family.session.get_providers())

    @property
    def input_size(self) -> int:
        return self.family.input_size

    def predict(self, rgb: Image.Image) -> np.ndarray:
        return self.predict_prepared(self.prepare(rgb))

    def prepare(self, rgb: Image.Image) -> np.ndarray:
        """The model's input tensor for ``rgb``; needs no session, so another thread may do it."""
        return self.family.normalize(rgb)

    def predict_prepared(self, tensor: np.ndarray) -> np.ndarray:
        """Mask probabilities (as predict) for a tensor from prepare()."""
        if os.getpid() != self.pid:
            # onnxruntime's thread pool does not survive fork: a forked child runs
            # single-threaded at best, and may crash tearing the session down.
            raise ModelError(
                f"onnxruntime session was loaded in process {self.pid} and cannot be used after fork: "
                "load it in the process that runs the jobs (e.g. RQ SimpleWorker)"
            )
        return self.family.run(tensor)


def configured_model_name() -> str:
    return os.environ.get("SEGMENTATION_MODEL", "").strip() or DEFAULT_MODEL


def load_session(model_name: str, model_dir: Path, threads: int | None = None,
                 providers: str = providers_of.AUTO) -> Segmenter:
    """Verify the named model's file against its pin and open one session on it.

    `providers` is SEGMENT_PROVIDERS: `auto`, or a comma list of onnxruntime provider names.
    """
    spec = model_spec(model_name, model_dir)
    path = model_dir / spec.filename
    verify_model_file(path, spec.sha256)
    wanted = providers_of.resolve(providers)
    loaded = load_onnx(path, spec.family, threads, model_name=model_name, providers=wanted,
                       cache=(spec.sha256, optimized_cache.cache_dir(model_dir)))
    providers_of.check_started(wanted, loaded.providers, explicit=providers.strip().lower() != providers_of.AUTO)
    return loaded


def load_configured_session(threads: int | None = None) -> Segmenter:
    """The session a worker opens at start: SEGMENTATION_MODEL from MODEL_DIR."""
    return load_session(configured_model_name(), default_model_dir(), threads)


def load_onnx(
    path: Path, family: str, threads: int | None = None, model_name: str | None = None,
    providers: Sequence[str] = (providers_of.CPU,), cache: tuple[str, Path] | None = None,
) -> Segmenter:
    """Open any ONNX file as ``family`` (without a pin: tests, experiments).

    ``cache`` = (the file's verified SHA-256, a folder) keeps the optimised graph there
    (see segmentation.optimized_cache); without it the graph is optimised at every load.
    """
    cls = get_family(family)
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    start = time.perf_counter()
    outcome = optimized_cache.OFF
    try:
        if cache is None:
            session = ort.InferenceSession(
                str(path), sess_options=session_options(threads), providers=list(providers)
            )
        else:
            sha256, folder = cache
            session, outcome = optimized_cache.open_session(
                path, sha256, lambda level: session_options(threads, level), providers, folder
            )
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"model file {path} cannot be loaded by onnxruntime: {first}") from None
    load_ms = (time.perf_counter() - start) * 1000.0
    return Segmenter(model_name or path.stem, path, cls(session), load_ms, optimized=outcome)


def session_options(
    threads: int | None = None,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or _usable_cpus()
    opts.inter_op_num_threads = 1  # one image at a time per worker: no parallel branches to run
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = level
    return opts


def _usable_cpus() -> int:
    # The CPUs this process may run on (containers, taskset), not the host's count.
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
