"""What each running worker says about itself beyond RQ's own record: its model and execution providers.

RQ lists live workers and their queues; a segment worker adds which model it runs on which
onnxruntime providers (CPU, CUDA), kept under a key that lives as long as the worker's own RQ key,
so the stats page shows the device every draft is made on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from redis import Redis
from rq import Worker

from infrastructure.redis_connection import get_redis


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    queues: list[str]
    state: str
    model: str  # "" for a worker without the segment queue
    providers: list[str]


def _key(name: str) -> str:
    return f"clip:worker-info:{name}"


def announce(connection: Redis, name: str, *, model: str, providers: list[str], ttl: int) -> None:
    """Called from the worker's heartbeat, which may run outside the app context: the worker's own connection."""
    connection.set(_key(name), json.dumps({"model": model, "providers": providers}), ex=ttl)


def live_workers() -> list[WorkerInfo]:
    redis = get_redis()
    found = []
    for worker in sorted(Worker.all(connection=redis), key=lambda w: w.name):
        info = json.loads(redis.get(_key(worker.name)) or "{}")
        found.append(WorkerInfo(worker.name, worker.queue_names(), str(worker.get_state()),
                                info.get("model", ""), info.get("providers", [])))
    return found
