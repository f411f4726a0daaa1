"""Copy every order file from one store to another, verified, and resumable by running it again."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from infrastructure.storage.base import CACHE_PREFIX, StorageUnavailable, Store


@dataclass
class Migration:
    copied: int = 0
    skipped: int = 0  # already in the target with the same SHA-256: an earlier run copied it
    failed: list[str] = field(default_factory=list)


def keys_to_copy(source: Store) -> list[str]:
    # Scaled copies for the dashboard are made again on demand: not worth a bucket's requests.
    return sorted(key for key in source.keys() if not key.startswith(CACHE_PREFIX))


def copy_store(source: Store, target: Store, keys: Iterable[str],
               step: Callable[[str], None] = lambda key: None) -> Migration:
    result = Migration()
    for key in keys:
        try:
            _copy_one(source, target, key, result)
        except StorageUnavailable:
            result.failed.append(key)
        step(key)
    return result


def _copy_one(source: Store, target: Store, key: str, result: Migration) -> None:
    data = source.read(key)
    sha256 = hashlib.sha256(data).hexdigest()
    if _stored_sha256(target, key) == sha256:
        result.skipped += 1
        return
    target.write(key, data, sha256)
    if _stored_sha256(target, key) != sha256:
        result.failed.append(key)
        return
    result.copied += 1


def _stored_sha256(store: Store, key: str) -> str | None:
    recorded = store.sha256(key)
    if recorded is not None or store.info(key) is None:
        return recorded
    return hashlib.sha256(store.read(key)).hexdigest()  # a store that keeps no checksum: read it back
