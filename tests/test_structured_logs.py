"""LOG_FORMAT=json as the processes write it: every line a worker or gunicorn writes is one JSON object."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.api import post_image, ticket_of
from tests.support.pictures import encode
from tests.support.ports import free_port
from tests.support.redis_server import stop_embedded_servers_in
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEYS = {"time", "level", "logger", "message"}


def _json_lines(output: str) -> list[dict]:
    """Each line of output as JSON; fails on the first that is not a JSON object with the four keys."""
    lines = []
    for text in output.splitlines():
        line = json.loads(text)
        assert isinstance(line, dict) and KEYS <= line.keys(), text
        lines.append(line)
    return lines


def test_a_worker_writes_json_lines_and_a_job_s_lines_name_its_job_and_ticket(app, backend, client, customer,
                                                                               template_id, image_server):
    if backend.name != "embedded":
        pytest.skip("one backend is enough for a test of processes")
    url = image_server.serve_bytes("/a.png", encode("PNG", (48, 32)), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    env = dict(os.environ, LOG_FORMAT="json", DATABASE_URL=app.config["DATABASE_URL"],
               REDIS_URL=app.config["REDIS_URL"], STORAGE_DIR=app.config["STORAGE_DIR"],
               MODEL_DIR=app.config["MODEL_DIR"], SEGMENTATION_MODEL=app.config["SEGMENTATION_MODEL"],
               FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*")

    done = subprocess.run([str(BIN / "flask"), "--app", "app", "worker", "--burst"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    lines = _json_lines(done.stdout) + _json_lines(done.stderr)
    fetched = [line for line in lines if line.get("job_id", "").startswith("fetch-")]
    assert fetched, lines
    assert all(line["ticket"] == ticket for line in fetched)
    assert any("Job OK" in line["message"] for line in fetched)


def test_gunicorn_writes_json_access_lines_without_the_api_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "STORAGE_DIR")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), LOG_FORMAT="json")
    subprocess.run([str(BIN / "flask"), "--app", "app", "init-db"], cwd=ROOT, env=env, capture_output=True,
                   timeout=120, check=True)
    seeded = subprocess.run([str(BIN / "flask"), "--app", "app", "seed-demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    email, api_key = seeded[0].split()[-1], seeded[-1].split()[-1]
    port = free_port()
    out, err = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "1", "--access-logfile", "-", "app:create_app()"],
                                  cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=2).ok
            except requests.RequestException:  # refused while it starts, or a read timeout while the worker boots
                return False

        assert wait_until(up, 60)
        answer = requests.get(f"{base}/REST.svc/Templates/", timeout=10,
                              params={"ContactEmail": email, "ContactAPIkey": api_key})
        assert answer.ok
        assert wait_until(lambda: "/REST.svc/Templates/" in out.read_text(), 10)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        stop_embedded_servers_in(tmp_path / "instance")  # the web worker's first call started one

    access = _json_lines(out.read_text())
    errors = _json_lines(err.read_text())
    [call] = [line for line in access if "/REST.svc/Templates/" in line["message"]]
    assert call["logger"] == "gunicorn.access" and "ContactAPIkey=***" in call["message"]
    assert any(line["logger"] == "gunicorn.error" for line in errors)  # "Booting worker", "Shutting down"
    assert api_key not in out.read_text() + err.read_text()
