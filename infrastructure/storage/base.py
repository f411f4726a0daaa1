"""What every store of order files offers, whatever holds the bytes (a folder, an S3 bucket).

Keys are relative paths such as `orders/ab/ab12…/original.jpg`; the database keeps
keys, never a machine's path or a bucket's name, so a store can move (see
storage-migrate) without touching a row.
"""
from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

# Derived files (the dashboard's scaled copies) live under this prefix: they may be deleted or left
# behind at any time and are made again on demand.
CACHE_PREFIX = "cache/"


class StorageUnavailable(Exception):
    """The store refused a read or write (disk full, bucket unreachable, object missing): a passing fault
    to retry. Its message names no server path or bucket (it may reach a customer); the error behind it
    is its __cause__."""

    def __init__(self, action: str, key: str) -> None:
        super().__init__(f"could not {action} an order file")
        self.relpath = key


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str  # changes whenever the bytes do; quoted by HTTP, not here
    modified: datetime


class Store(abc.ABC):
    """One backend. Writes are atomic: a reader sees the whole old object, the whole new one, or none."""

    url: str  # how STORAGE_URL names it, for messages and storage-migrate

    @abc.abstractmethod
    def write(self, key: str, data: bytes, sha256: str) -> None:
        """Store `data` under `key`; `sha256` is its hex digest, which the backend may have checked on arrival."""

    @abc.abstractmethod
    def read(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A seekable binary stream that fetches only what is read (a header, a byte range)."""

    @abc.abstractmethod
    def info(self, key: str) -> ObjectInfo | None:
        """Size, ETag and time of the object; None when there is none."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the object; False when there was none."""

    @abc.abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under `prefix`, in no promised order."""

    @abc.abstractmethod
    def sha256(self, key: str) -> str | None:
        """The object's SHA-256 (hex) as the store recorded it, or None when it has none to give cheaply."""

    def presigned_url(self, key: str, seconds: int, filename: str, mimetype: str) -> str | None:
        """A short-lived URL that serves the object without this app; None where the backend has none."""
        return None
