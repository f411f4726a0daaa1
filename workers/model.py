"""The segmentation model of this worker process: loaded once, on first use or at worker start.

Never loaded before a fork: workers are SimpleWorkers (no fork per job), and
the web app never imports this module.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from segmentation.sessions import Segmenter, load_session

_loaded: dict[tuple[str, str], Segmenter] = {}


def segmenter() -> Segmenter:
    """The configured model's session; raises segmentation.model_store.ModelError if unusable."""
    name = current_app.config["SEGMENTATION_MODEL"]
    folder = current_app.config["MODEL_DIR"]
    key = (name, folder)
    if key not in _loaded:
        _loaded[key] = load_session(name, Path(folder), threads=current_app.config["SEGMENT_THREADS"] or None,
                                    providers=current_app.config["SEGMENT_PROVIDERS"])
    return _loaded[key]


def loaded_count() -> int:
    """How many sessions this process has created (a bench and a test check it stays 1)."""
    return len(_loaded)
