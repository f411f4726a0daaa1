"""Files of an order (original, drafts, masks, finals) under STORAGE_DIR.

Paths stored in the database are relative to STORAGE_DIR, so the folder can be
moved or mounted elsewhere on another machine. Writes are atomic: a crash leaves
either the old file or the new one, never half of one. A read or write the disk
refuses raises StorageUnavailable, whose message names no server path (it may
reach a customer); the OSError behind it, with the path, is its __cause__.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class StorageUnavailable(Exception):
    """The store refused a read or write (disk full, read-only, mount gone): a passing fault to retry."""

    def __init__(self, action: str, relpath: str) -> None:
        super().__init__(f"could not {action} an order file")
        self.relpath = relpath


def root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def order_dir(ticket: str) -> str:
    """Relative folder of one order, fanned out so no folder holds millions of entries."""
    return f"orders/{ticket[:2]}/{ticket}"


def absolute(relpath: str) -> Path:
    """The file's path; its folder is created, so writers need not."""
    path = (root() / relpath).resolve()
    if root().resolve() not in path.parents:
        raise ValueError(f"{relpath!r} is outside the storage folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageUnavailable("create the folder of", relpath) from exc
    return path


# mkstemp makes 0600; web and worker processes may run as different users and both read these files.
FILE_MODE = 0o644


def write_bytes(relpath: str, data: bytes) -> str:
    """Write atomically; returns the SHA-256 of the bytes."""
    path = absolute(relpath)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError as exc:
        raise StorageUnavailable("write", relpath) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StorageUnavailable("write", relpath) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def sha256_of(relpath: str) -> str:
    digest = hashlib.sha256()
    with absolute(relpath).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(relpath: str) -> bytes:
    try:
        return absolute(relpath).read_bytes()
    except OSError as exc:
        raise StorageUnavailable("read", relpath) from exc
