"""Playwright driving Debian's Chromium (Playwright cannot download its own browser here)."""
from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Root needs no sandbox; a small /dev/shm needs the flag; the rest keep Chromium off the closed network.
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: apt-get install -y chromium"),
    pytest.mark.skipif(find_spec("playwright") is None,
                       reason="Playwright is not installed: .venv/bin/pip install -r requirements-test.txt"),
]
