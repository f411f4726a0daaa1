"""Files of an order (original, drafts, masks, previews, finals): the one door to them.

STORAGE_URL picks the backend: unset (or file:///path) is a local folder,
STORAGE_DIR by default; s3://bucket/prefix is S3-compatible object storage
(S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION). Nothing
outside this package knows which: callers pass keys, never paths. A read or write
the store refuses raises StorageUnavailable, whose message names no path.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app

from infrastructure.storage.base import CACHE_PREFIX, ObjectInfo, StorageUnavailable, Store

__all__ = ["CACHE_PREFIX", "ObjectInfo", "Store", "StorageUnavailable", "current", "delete", "exists", "from_url",
           "info", "open_stream", "order_dir", "read_bytes", "write_bytes"]


def from_url(url: str | None, config: Mapping[str, Any]) -> Store:
    """The store a STORAGE_URL names; an empty one is the local STORAGE_DIR."""
    if not url:
        from infrastructure.storage.local import LocalStore

        return LocalStore(Path(config["STORAGE_DIR"]))
    if url.startswith("file://"):
        from infrastructure.storage.local import LocalStore

        return LocalStore(Path(url[len("file://"):]))
    if url.startswith("s3://"):
        from infrastructure.storage.s3 import S3Store

        return S3Store(url, endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("AWS_REGION"),
                       access_key=config.get("AWS_ACCESS_KEY_ID"), secret_key=config.get("AWS_SECRET_ACCESS_KEY"))
    raise ValueError(f"STORAGE_URL {url!r}: use s3://bucket/prefix or file:///folder")


def current() -> Store:
    """The app's store, made once per app (its S3 client once per process, on first use)."""
    stores = current_app.extensions.setdefault("order_store", {})
    if "store" not in stores:
        stores["store"] = from_url(current_app.config.get("STORAGE_URL"), current_app.config)
    return stores["store"]


def order_dir(ticket: str) -> str:
    """The key prefix of one order's files, fanned out so no folder holds millions of entries."""
    return f"orders/{ticket[:2]}/{ticket}"


def write_bytes(key: str, data: bytes) -> str:
    """Write atomically; returns the SHA-256 of the bytes."""
    sha256 = hashlib.sha256(data).hexdigest()
    current().write(key, data, sha256)
    return sha256


def read_bytes(key: str) -> bytes:
    return current().read(key)


def open_stream(key: str) -> BinaryIO:
    """A seekable stream that reads only what is asked for: image headers, byte ranges."""
    return current().open(key)


def info(key: str) -> ObjectInfo | None:
    return current().info(key)


def exists(key: str) -> bool:
    return current().info(key) is not None


def delete(key: str) -> bool:
    return current().delete(key)
