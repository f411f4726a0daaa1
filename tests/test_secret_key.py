"""The session key made on first start: private from its first byte, and one key for every process."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each process imports the app, then waits for the same instant to create it.
_START = """
import sys, time
from app import create_app
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(create_app().config["SECRET_KEY"])
"""


def test_web_processes_starting_at_once_share_one_private_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), REDIS_URL="redis://127.0.0.1:1/0",
               DATABASE_URL=f"sqlite:///{tmp_path / 'orders.db'}")
    import time

    at = str(time.time() + 4)
    processes = [subprocess.Popen([sys.executable, "-c", _START, at], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(8)]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}

    assert len(keys) == 1 and len(keys.pop()) == 64
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600
