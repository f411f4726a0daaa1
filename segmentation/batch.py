"""Cut-outs of many files with one session (`flask segment`), the model never waiting on files.

While onnxruntime runs image N (it releases the GIL), one thread decodes and normalises
image N+1 and another sizes the mask of image N-1, builds its cut-out and writes the PNG.
So a batch costs about its model runs: decoding and, above all, PNG encoding (a 2 MP RGBA
cut-out takes longer to compress than a fast CPU takes to segment it) happen meanwhile.
"""
from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from segmentation.draft import DecodedImage, decode_for_model, decode_full
from segmentation.upsample import upsample_mask

# zlib level 1: lossless like any other, ~5x faster than Pillow's default 6 on photos for
# ~10 % larger files; a batch's output is an intermediate, not an archive.
PNG_COMPRESS_LEVEL = 1
HELPER_NICENESS = 10


class SupportsBatch(Protocol):
    input_size: int

    def prepare(self, rgb: Image.Image) -> np.ndarray: ...

    def predict_prepared(self, tensor: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Outcome:
    source: Path
    written: Path | None  # None when it failed
    error: str | None = None  # "ExceptionName: message"


def segment_files(
    segmenter: SupportsBatch, sources: Sequence[Path], out_dir: Path, *, mask_only: bool = False,
) -> Iterator[Outcome]:
    """Write out_dir/<stem>.png for each source (RGBA cut-out, or the "L" mask); yield in order.

    A file that fails (unreadable, not an image) yields an Outcome with its error, and the
    batch goes on.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(1, "segment-decode", _yield_to_the_model) as decoding, \
            ThreadPoolExecutor(1, "segment-write", _yield_to_the_model) as writing:
        ahead = decoding.submit(_prepare, segmenter, sources[0]) if sources else None
        pending: list[tuple[Path, Future]] = []
        for i, path in enumerate(sources):
            current = ahead
            # One ahead: bounded memory, and the next is ready when the model is.
            ahead = decoding.submit(_prepare, segmenter, sources[i + 1]) if i + 1 < len(sources) else None
            try:
                decoded, tensor = current.result()
                probs = segmenter.predict_prepared(tensor)
            except Exception as exc:  # noqa: BLE001 - report this file and go on with the rest
                pending.append((path, _failed(exc)))
            else:
                target = out_dir / f"{path.stem}.png"
                pending.append((path, writing.submit(_write, path, decoded, probs, target, mask_only)))
            del current
            while pending and (pending[0][1].done() or len(pending) > 2):
                yield _outcome(*pending.pop(0))
        while pending:
            yield _outcome(*pending.pop(0))


def _yield_to_the_model() -> None:
    """Lower this helper thread's priority (Linux: per thread), so it takes the CPU the model leaves.

    onnxruntime runs one thread per core and each operator waits for its slowest thread: a
    helper at equal priority preempting one of them stalls them all. Niced, it gets the
    gaps (the model's serial stretches) and whatever the cores have left.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HELPER_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at equal priority
        pass


def _prepare(segmenter: SupportsBatch, path: Path) -> tuple[DecodedImage, np.ndarray]:
    decoded = decode_for_model(path, segmenter.input_size)
    return decoded, segmenter.prepare(decoded.image)


def _write(source: Path, decoded: DecodedImage, probs: np.ndarray, target: Path, mask_only: bool) -> Path:
    mask = upsample_mask(probs, decoded.image, decoded.original_size)
    if mask_only:
        result = mask
    else:
        # A JPEG small enough not to be decoded at reduced scale is already whole: no second decode.
        rgb = decode_full(source).image if decoded.reduced else decoded.image
        result = rgb.convert("RGBA")
        result.putalpha(mask)
    _save_png(result, target)
    return target


def _save_png(image: Image.Image, path: Path) -> None:
    """Via a temp file + os.replace: a batch cut short leaves whole files only."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, "PNG", compress_level=PNG_COMPRESS_LEVEL)
        os.chmod(name, 0o644)  # mkstemp makes 0600
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _failed(exc: Exception) -> Future:
    done: Future = Future()
    done.set_exception(exc)
    return done


def _outcome(path: Path, future: Future) -> Outcome:
    try:
        return Outcome(path, future.result())
    except Exception as exc:  # noqa: BLE001 - one file's failure, reported by the caller
        return Outcome(path, None, f"{type(exc).__name__}: {exc}")
