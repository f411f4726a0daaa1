"""Order files in a local folder (STORAGE_DIR, or a shared mount).

Writes go to a temporary file in the same folder, are fsynced, then renamed over
the key's path: a crash leaves the old file or the new one, never half of one.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from infrastructure.storage.base import ObjectInfo, StorageUnavailable, Store

# mkstemp makes 0600; web and worker processes may run as different users and both read these files.
FILE_MODE = 0o644


class LocalStore(Store):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root.resolve()}"

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"{key!r} is outside the storage folder")
        return path

    def write(self, key: str, data: bytes, sha256: str) -> None:
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise StorageUnavailable("write", key) from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageUnavailable("write", key) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except OSError as exc:
            raise StorageUnavailable("read", key) from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except OSError as exc:
            raise StorageUnavailable("read", key) from exc

    def info(self, key: str) -> ObjectInfo | None:
        try:
            stat = self.path(key).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable("read", key) from exc
        # Stored files are never rewritten in place (a new version is a new key), so size and
        # time tell one file's bytes from another's.
        return ObjectInfo(stat.st_size, f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
                          datetime.fromtimestamp(stat.st_mtime, UTC))

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageUnavailable("delete", key) from exc
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if not name.startswith(".tmp-"):  # a write in progress, or one a crash left behind
                    yield Path(folder, name).relative_to(self.root).as_posix()

    def sha256(self, key: str) -> str | None:
        digest = hashlib.sha256()
        try:
            with self.path(key).open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable("read", key) from exc
        return digest.hexdigest()
