"""Shared fixtures. Sections below are grouped by what they provide."""
from __future__ import annotations

# --- image server on loopback (fetcher tests) ---------------------------------

# --- segmentation models (tiny ONNX models built by the tests) ----------------

# --- app, database and queue backends -----------------------------------------
