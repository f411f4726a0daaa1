"""gunicorn.conf.py as a web machine meets it: gunicorn started from the repository on a fresh instance
folder, with no launcher to prepare the metrics folder (a bench, a container's first start)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.ports import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]


def test_gunicorn_starts_on_a_fresh_instance_folder_and_makes_its_metrics_folder(tmp_path):
    instance = tmp_path / "instance"  # does not exist yet: nothing made instance/metrics
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "STORAGE_DIR", "PROMETHEUS_MULTIPROC_DIR")}
    env["INSTANCE_DIR"] = str(instance)
    port = free_port()
    web = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                            "--workers", "1", "app:create_app()"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def answers() -> bool:
            assert web.poll() is None, web.stderr.read()
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        assert wait_until(answers, timeout=30)
        assert (instance / "metrics").is_dir()
    finally:
        web.terminate()
        web.wait(timeout=30)
