"""Order files in S3-compatible object storage (AWS S3, MinIO, Ceph, Garage), through boto3.

A PUT is atomic by nature: an object appears whole or not at all. Each PUT carries
the bytes' SHA-256, which the server checks before it stores them and keeps, so a
later HEAD tells a migration or a check what was stored without reading it back.
"""
from __future__ import annotations

import base64
import io
import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from infrastructure.storage.base import ObjectInfo, StorageUnavailable, Store

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_READ_BLOCK = 1 << 16  # the reader's buffer: PIL reads a header in a few small reads, one GET serves them


def parse_url(url: str) -> tuple[str, str]:
    """s3://bucket/prefix → (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"{url!r} is not an s3://bucket/prefix URL")
    return parts.netloc, parts.path.strip("/")


class S3Store(Store):
    def __init__(self, url: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None) -> None:
        self.url = url
        self.bucket, self.prefix = parse_url(url)
        self._client_options = {"endpoint_url": endpoint_url or None, "region_name": region or None,
                                "aws_access_key_id": access_key or None, "aws_secret_access_key": secret_key or None}
        self._client: Any = None
        self._client_pid = 0
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        # Made on first use and again in a forked child: a client (and its sockets) must never cross a fork.
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client = _new_client(**self._client_options)
                    self._client_pid = os.getpid()
        return self._client

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"{key!r} is outside the store")
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, data: bytes, sha256: str) -> None:
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        stored = self._call("write", key, "put_object", Body=data, ChecksumAlgorithm="SHA256",
                            ChecksumSHA256=checksum)
        if stored.get("ChecksumSHA256", checksum) != checksum:  # S3 checks it on arrival; some stores only echo
            raise StorageUnavailable("write", key)

    def read(self, key: str) -> bytes:
        try:
            return self._call("read", key, "get_object")["Body"].read()
        except StorageUnavailable:
            raise
        except Exception as exc:  # the body breaking off mid-read: the connection's fault, not ours
            raise StorageUnavailable("read", key) from exc

    def open(self, key: str) -> BinaryIO:
        return io.BufferedReader(_ObjectReader(self, key), buffer_size=_READ_BLOCK)  # type: ignore[return-value]

    def info(self, key: str) -> ObjectInfo | None:
        head = self._head(key)
        if head is None:
            return None
        return ObjectInfo(head["ContentLength"], head["ETag"].strip('"'), head["LastModified"])

    def delete(self, key: str) -> bool:
        if self._head(key) is None:
            return False
        self._call("delete", key, "delete_object")
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        start = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", ()):
                    yield item["Key"][strip:]
        except Exception as exc:
            raise StorageUnavailable("list", prefix) from exc

    def sha256(self, key: str) -> str | None:
        head = self._head(key, ChecksumMode="ENABLED")
        if head is None or not head.get("ChecksumSHA256"):
            return None
        return base64.b64decode(head["ChecksumSHA256"]).hex()

    def presigned_url(self, key: str, seconds: int, filename: str, mimetype: str) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=seconds,
            Params={"Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": mimetype,
                    "ResponseContentDisposition": f'inline; filename="{filename}"'})

    def read_range(self, key: str, start: int) -> Any:
        """The object's body from byte `start` on, as a stream; None at or past its end."""
        try:
            return self._call("read", key, "get_object", Range=f"bytes={start}-")["Body"]
        except StorageUnavailable as exc:
            if _code(exc.__cause__) == "InvalidRange":
                return None
            raise

    def _head(self, key: str, **options: str) -> dict | None:
        try:
            return self._call("read", key, "head_object", **options)
        except StorageUnavailable as exc:
            if _code(exc.__cause__) in _NOT_FOUND:
                return None
            raise

    def _call(self, action: str, key: str, operation: str, **params: Any) -> Any:
        name = self._key(key)
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, Key=name, **params)
        except Exception as exc:  # botocore's ClientError and BotoCoreError (endpoint down, timeouts, …)
            raise StorageUnavailable(action, key) from exc


def _code(exc: BaseException | None) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _new_client(**options: Any) -> Any:
    import boto3  # only a process that uses S3 pays for importing it
    from botocore.config import Config

    config = Config(
        connect_timeout=3, read_timeout=30,
        # A few quick retries inside one call (a dropped connection, a 503 SlowDown); a longer outage
        # is the job's fault policy's to ride out (FAULT_RETRY_INTERVALS).
        retries={"max_attempts": 3, "mode": "standard"},
        # Path-style addressing: MinIO, Ceph and Garage behind one host name have no per-bucket DNS.
        s3={"addressing_style": "path"} if options.get("endpoint_url") else {},
    )
    return boto3.session.Session().client("s3", config=config, **options)


class _ObjectReader(io.RawIOBase):
    """A seekable view of one object: reads stream from one ranged GET, a seek starts another."""

    def __init__(self, store: S3Store, key: str) -> None:
        self._store, self._key = store, key
        self._position = 0
        self._body: Any = None
        self._size: int | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: None}[whence]
        if base is None:
            base = self._length()
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_body()
            self._position = target
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._body is None:
            self._body = self._store.read_range(self._key, self._position)
            if self._body is None:
                return 0
        try:
            data = self._body.read(len(buffer))
        except Exception as exc:
            raise StorageUnavailable("read", self._key) from exc
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def _length(self) -> int:
        if self._size is None:
            info = self._store.info(self._key)
            if info is None:
                raise StorageUnavailable("read", self._key)
            self._size = info.size
        return self._size

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
