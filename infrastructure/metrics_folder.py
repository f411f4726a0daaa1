"""The folder of prometheus_client's multiprocess mode, as launchers handle it.

Apart from infrastructure.metrics on purpose: importing that module creates its metric objects,
which in multiprocess mode open files in this folder at once. A launcher (scripts/run.py, the
gunicorn master) must be able to prepare the folder before that, and writes no metrics itself.
"""
from __future__ import annotations

import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_folder(folder: str) -> None:
    """Create the multiprocess folder and remove what earlier runs left there. Only a launcher calls
    this, before any process that writes there starts: a file removed under a live process would
    silently lose its values."""
    os.makedirs(folder, exist_ok=True)
    for entry in os.scandir(folder):
        prefix = entry.name.split("_", 1)[0]
        if entry.is_file() and entry.name.endswith(".db") and prefix in {"counter", "gauge", "histogram", "summary"}:
            os.remove(entry.path)


def process_ended(pid: int, folder: str | None = None) -> None:
    """Forget a dead process's live gauges in `folder` (default PROMETHEUS_MULTIPROC_DIR); its counters
    and histograms stay, as they are totals."""
    from prometheus_client.multiprocess import mark_process_dead

    folder = folder or os.environ.get(MULTIPROC_ENV)
    if folder:
        mark_process_dead(pid, folder)
