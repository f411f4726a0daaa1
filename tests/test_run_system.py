"""The system as `make run` starts it: gunicorn, two workers and an embedded Redis, as real processes."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.pictures import encode
from tests.support.ports import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture
def system_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "STORAGE_DIR")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(free_port()), WEB_CONCURRENCY="2",
               FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*")
    return env


def _flask(env, *args) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def _seeded(env) -> tuple[str, str]:
    _flask(env, "init-db")
    seeded = _flask(env, "seed-demo").splitlines()
    return seeded[0].split()[-1], seeded[-1].split()[-1]


def _order_reaches_review(base: str, email: str, api_key: str, image_url: str) -> None:
    answer = requests.post(f"{base}/REST.svc/Image/", timeout=5, headers={"Accept": "application/json"},
                           json={"ContactEmail": email, "ContactAPIkey": api_key, "ImageURL": image_url})
    ticket = answer.json()["IMAGETICKET"]

    def reviewed():
        status = requests.get(f"{base}/REST.svc/Image/Status/{ticket}/", timeout=2,
                              params={"ContactEmail": email, "ContactAPIkey": api_key},
                              headers={"Accept": "application/json"}).json()
        return status["IMAGESTATUS"]["STATUSID"] == 40

    _wait_for(reviewed, 60)


def test_make_run_serves_the_api_with_the_demo_credentials_and_stops_cleanly(system_env, image_server):
    email, api_key = _seeded(system_env)
    base = f"http://127.0.0.1:{system_env['PORT']}"
    launcher = subprocess.Popen([str(BIN / "python"), "scripts/run.py"], cwd=ROOT, env=system_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: requests.get(f"{base}/developer/", timeout=2).ok)
        _order_reaches_review(base, email, api_key,
                              image_server.serve_bytes("/a.png", encode("PNG", (32, 32)), "image/png"))
    finally:
        launcher.send_signal(signal.SIGINT)
        code = launcher.wait(timeout=60)
    assert code == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/developer/", timeout=2)


def test_make_run_starts_a_killed_worker_again_and_orders_still_reach_review(system_env, image_server):
    email, api_key = _seeded(system_env)
    base = f"http://127.0.0.1:{system_env['PORT']}"
    launcher = subprocess.Popen([str(BIN / "python"), "scripts/run.py"], cwd=ROOT, env=system_env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True).start()

    def worker_pids() -> list[int]:
        return [int(m.group(1)) for line in list(lines) if (m := re.match(r"worker started \(pid (\d+)\)", line))]

    try:
        _wait_for(lambda: requests.get(f"{base}/developer/", timeout=2).ok)
        first = _wait_for(worker_pids)[0]
        os.kill(first, signal.SIGKILL)
        replacement = _wait_for(lambda: worker_pids()[1:], 30)[0]
        assert replacement != first and launcher.poll() is None
        _order_reaches_review(base, email, api_key,
                              image_server.serve_bytes("/b.png", encode("PNG", (32, 32)), "image/png"))
    finally:
        launcher.send_signal(signal.SIGINT)
        code = launcher.wait(timeout=60)
    assert code == 0
    assert any("worker" in line and "exited with signal 9" in line for line in lines)


def test_make_run_starts_a_segment_worker_and_a_worker_for_the_light_queues(system_env):
    from rq import Worker

    from infrastructure.redis_connection import get_redis

    _seeded(system_env)
    launcher = subprocess.Popen([str(BIN / "python"), "scripts/run.py"], cwd=ROOT, env=system_env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True).start()
    try:
        redis_url = _wait_for(lambda: next((line.split()[-1] for line in list(lines)
                                            if line.startswith("embedded Redis at")), None))
        connection = get_redis(redis_url)

        def queue_sets():
            found = sorted(tuple(sorted(w.queue_names())) for w in Worker.all(connection=connection))
            return found if len(found) == 2 else None

        assert _wait_for(queue_sets, 60) == [("callback", "default", "fetch", "render"), ("segment",)]
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)


def test_make_run_s_access_log_writes_the_path_but_never_the_api_key(system_env, tmp_path):
    email, api_key = _seeded(system_env)
    base = f"http://127.0.0.1:{system_env['PORT']}"
    output = tmp_path / "launcher.log"  # gunicorn's access log is the launcher's stdout, as under make run
    with output.open("w") as log_file:
        launcher = subprocess.Popen([str(BIN / "python"), "scripts/run.py"], cwd=ROOT, env=system_env,
                                    stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok)
        answer = requests.get(f"{base}/REST.svc/Templates/", timeout=5,
                              params={"ContactEmail": email, "ContactAPIkey": api_key})
        assert answer.ok
        assert wait_until(lambda: "GET /REST.svc/Templates/?" in output.read_text(), 10)
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
    written = output.read_text()
    assert "ContactAPIkey=***" in written
    assert api_key not in written


def test_make_run_s_metrics_count_the_workers_jobs_beside_the_web_s(system_env, image_server):
    from prometheus_client.parser import text_string_to_metric_families

    email, api_key = _seeded(system_env)
    base = f"http://127.0.0.1:{system_env['PORT']}"
    launcher = subprocess.Popen([str(BIN / "python"), "scripts/run.py"], cwd=ROOT, env=system_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def jobs_timed() -> dict[str, float]:
        text = requests.get(f"{base}/metrics", timeout=5).text
        return {s.labels["kind"]: s.value for family in text_string_to_metric_families(text)
                for s in family.samples if s.name == "clip_job_duration_seconds_count"}

    try:
        _wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok)
        _order_reaches_review(base, email, api_key,
                              image_server.serve_bytes("/m.png", encode("PNG", (32, 32)), "image/png"))
        # Timed in the two worker processes, scraped from whichever gunicorn worker answers.
        timed = _wait_for(lambda: (found := jobs_timed()).get("draft_order") and found, 30)
        assert timed["fetch_order_image"] == 1 and timed["draft_order"] == 1
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
