"""Waiting on real processes without sleeping longer than needed."""
from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float, every: float = 0.2) -> bool:
    """True as soon as predicate() is truthy; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
