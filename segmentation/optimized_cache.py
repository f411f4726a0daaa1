"""onnxruntime's optimized-model cache: optimise a model's graph once, load the result after.

Creating a session from the source model makes onnxruntime optimise the graph every time
(for ISNet: folding the fp16 weights to fp32, fusing, NCHWc layout), most of a session's
start. The first session of a model writes its optimised graph (SessionOptions.
optimized_model_filepath) into MODEL_DIR/optimized/; later ones load that file with graph
optimisation off, which is the same graph onnxruntime would have built.

The file name carries a key over everything that shapes the optimised graph: the source
model's SHA-256, the onnxruntime version, the execution providers, the optimisation level
and the CPU's architecture and instruction-set flags (ORT_ENABLE_ALL bakes in a layout for
the vector width of the CPU it ran on). A changed model, runtime or machine never opens a
stale file; it builds its own beside it. Only CPU-only sessions are cached: a graph
optimised for CUDA holds Memcpy nodes that onnxruntime cannot load again.

Old files go by themselves: every session opened from a file marks it used (its sidecar's
time), and each build removes the files nobody opened for UNUSED_DAYS. Not simply every other
key: a MODEL_DIR shared by machines of different CPUs holds one live file per CPU.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import onnxruntime as ort

from segmentation.model_store import file_sha256

log = logging.getLogger(__name__)

DIRNAME = "optimized"
CPU = "CPUExecutionProvider"
LEVEL = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
UNUSED_DAYS = 30

# How a session was opened: from the cache, by building the cache (first use, or after a
# damaged file), or without the cache (GPU providers, an unwritable MODEL_DIR).
HIT, BUILT, REBUILT, OFF = "hit", "built", "rebuilt", "off"

OptionsFor = Callable[[ort.GraphOptimizationLevel], ort.SessionOptions]


def cacheable(providers: Sequence[str]) -> bool:
    return list(providers) == [CPU]


def cache_dir(model_dir: Path) -> Path:
    return Path(model_dir) / DIRNAME


def cache_key(model_sha256: str, providers: Sequence[str]) -> str:
    """A short hash of what the optimised graph depends on; part of the cache file's name."""
    parts = (model_sha256, ort.__version__, ",".join(providers), str(int(LEVEL)), cpu_fingerprint())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cache_file(folder: Path, source: Path, model_sha256: str, providers: Sequence[str]) -> Path:
    """<stem>-<model SHA-256, 12 digits>-<key>.onnx in ``folder``."""
    return Path(folder) / f"{Path(source).stem}-{model_sha256[:12]}-{cache_key(model_sha256, providers)}.onnx"


@functools.cache
def cpu_fingerprint() -> str:
    """Architecture and instruction-set flags: what decides the kernels and layout baked in."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                name, _, value = line.partition(":")
                if name.strip() in ("flags", "Features"):
                    flags = " ".join(sorted(value.split()))
                    break
    except OSError:  # not Linux: the processor string is the best we have
        flags = platform.processor()
    return f"{platform.machine()} {hashlib.sha256(flags.encode()).hexdigest()[:16]}"


def open_session(
    source: Path, model_sha256: str, options: OptionsFor, providers: Sequence[str], folder: Path,
) -> tuple[ort.InferenceSession, str]:
    """A session on ``source`` (already verified to hash to ``model_sha256``) and how it was opened.

    Raises what onnxruntime raises for a source model it cannot load; a cache file that is
    damaged or unreadable is only logged, rebuilt from the source, and replaced.
    """
    providers = list(providers)
    if not cacheable(providers):
        return _create(source, options(LEVEL), providers), OFF
    target = cache_file(folder, source, model_sha256, providers)
    outcome = BUILT
    if target.is_file():
        outcome = REBUILT
        if _intact(target):
            try:
                session = _create(target, options(ort.GraphOptimizationLevel.ORT_DISABLE_ALL), providers)
                _mark_used(target)
                return session, HIT
            except Exception as exc:  # noqa: BLE001 - onnxruntime's errors are untyped; the source still works
                log.warning("optimized model %s cannot be loaded (%s): rebuilding it", target, _first_line(exc))
        else:
            log.warning("optimized model %s is damaged: rebuilding it", target)
    return _build(source, target, options, providers, outcome)


def _build(source: Path, target: Path, options: OptionsFor, providers: list[str],
           outcome: str) -> tuple[ort.InferenceSession, str]:
    """Open ``source`` fully optimised and let onnxruntime write the graph to ``target``.

    Written to a temporary name and renamed, so a worker starting beside this one sees the old
    file or the whole new one, never half of it.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:  # a read-only MODEL_DIR: run without the cache
        log.warning("cannot write the optimized-model cache in %s (%s)", target.parent, exc)
        return _create(source, options(LEVEL), providers), OFF
    tmp = Path(name)
    try:
        opts = options(LEVEL)
        opts.optimized_model_filepath = str(tmp)
        # onnxruntime warns that an ORT_ENABLE_ALL graph is hardware specific: the key holds the CPU.
        opts.log_severity_level = 3
        session = _create(source, opts, providers)
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; workers may run as another user
            _write_sidecar(tmp, target)
            os.replace(tmp, target)
        except OSError as exc:
            log.warning("cannot store the optimized model %s (%s)", target, exc)
            return session, OFF
        prune_unused(target.parent)
        return session, outcome
    finally:
        tmp.unlink(missing_ok=True)


def prune_unused(folder: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Remove cache files (and their sidecars) no session opened for ``days``; return them.

    Also removes the temporary files of builds that died (a crash between mkstemp and rename).
    A file in use by a running worker is safe to unlink: the session holds the graph in memory.
    """
    cutoff = time.time() - days * 86400
    removed = []
    for path in sorted(Path(folder).glob("*.onnx")) + sorted(Path(folder).glob(".*.tmp")):
        try:
            used = _sidecar(path).stat().st_mtime if path.suffix == ".onnx" else path.stat().st_mtime
        except FileNotFoundError:  # no sidecar: the file's own time
            used = path.stat().st_mtime
        if used >= cutoff:
            continue
        for doomed in (path, _sidecar(path)):
            try:
                doomed.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove the unused optimized model %s (%s)", doomed, exc)
        removed.append(path)
    if removed:
        log.info("removed %d optimized model(s) unused for %g days", len(removed), days)
    return removed


def _mark_used(path: Path) -> None:
    """The sidecar's time is the file's last use; it only ever moves forward, so _intact holds."""
    try:
        os.utime(_sidecar(path))
    except OSError:  # a read-only MODEL_DIR: the file may be pruned by a writer after UNUSED_DAYS
        pass


def _create(path: Path, opts: ort.SessionOptions, providers: list[str]) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers)


# The sidecar holds the cache file's SHA-256 and size and is written after the file: while the
# size matches and the file is older than its sidecar it is taken as written (no hashing 180 MB
# at every start); a file written since is hashed again, and a different digest means damage.


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_sidecar(written: Path, target: Path) -> None:
    st = written.stat()
    side = _sidecar(target)
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{file_sha256(written)} {st.st_size}\n")
    os.replace(tmp, side)


def _intact(path: Path) -> bool:
    try:
        digest, size = _sidecar(path).read_text().split()
        if path.stat().st_size != int(size):
            return False
        # Strictly older: file times tick in jiffies, so a write in the sidecar's own tick
        # could share its stamp; such a file is hashed.
        if path.stat().st_mtime_ns < _sidecar(path).stat().st_mtime_ns:
            return True
        return file_sha256(path) == digest
    except (OSError, ValueError):
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
