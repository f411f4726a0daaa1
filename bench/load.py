"""Shared bench plumbing: the app under gunicorn on PostgreSQL + Redis, and wrk.

Benches use their own PostgreSQL schema and Redis database number and leave
everything else on those servers alone. wrk comes from Debian (apt-get install wrk).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "clipping_orders_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
APPLICATION_NAME = "clip-bench"  # how the app's PostgreSQL backends are found (pg_stat_activity)
_SERVERS: dict[str, int] = {}  # base URL -> gunicorn master's pid, for the CPU figures


@dataclass(frozen=True)
class Figures:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    # CPU per request of the app's gunicorn workers and of their PostgreSQL backends: unlike the
    # latencies, these hardly move when something else on the machine takes CPU too.
    app_cpu_ms: float | None = None
    db_cpu_ms: float | None = None

    def line(self) -> str:
        cpu = (f"   CPU/request app {self.app_cpu_ms:.2f} ms, PostgreSQL {self.db_cpu_ms:.2f} ms"
               if self.app_cpu_ms is not None else "")
        return (f"{self.name:<28} {self.requests_per_s:8.0f} req/s   p50 {self.p50_ms:6.1f} ms   "
                f"p99 {self.p99_ms:6.1f} ms   non-2xx/errors {self.errors}{cpu}")


def bench_env(schema: str = SCHEMA) -> dict[str, str]:
    """Environment for the app under test: a fresh schema, our Redis db, files in a temp dir.

    A bench may name its own schema, so two benches run at once do not drop each other's tables.
    """
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = tempfile.mkdtemp(prefix="bench-")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={APPLICATION_NAME}",
        REDIS_URL=REDIS_URL,
        INSTANCE_DIR=instance,
        RATE_LIMIT="100000000/minute",
        RATE_LIMIT_PER_ADDRESS="100000000/minute",
    )
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return env


def drop_schema(schema: str = SCHEMA) -> None:
    """Leave the PostgreSQL server as the bench found it (GET Images' million rows are some 300 MB)."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def bench_account(env: dict[str, str], email: str = "bench@example.com") -> tuple[str, str]:
    """A customer and a template to order against: (API key, template id)."""
    api_key = flask_cli(env, "create-customer", email).split()[-1]
    template_id = flask_cli(env, "create-template", "--name", "Bench", "--price", "1", "--currency-id", "1",
                            "--delivery-hours", "24").split()[-1]
    return api_key, template_id


def flask_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 4, threads: int = 1, log: Path | None = None) -> Iterator[str]:
    """`log`: a file for gunicorn's output (a fault run's logged faults would bury its figures)."""
    port = _free_port()
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--threads", str(threads), "--log-level", "warning", "app:create_app()"]
    out = log.open("w") if log else None
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)
    base = f"http://127.0.0.1:{port}"
    _SERVERS[base] = proc.pid
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/developer/", timeout=1).ok:
                    break
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if out:
            out.close()


_WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "{content_type}"
wrk.headers["Accept"] = "{accept}"
{extra_headers}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %f %f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.duration, 0, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk(name: str, url: str, *, method: str = "GET", body: str = "", content_type: str = "application/json",
        accept: str = "application/xml", seconds: int = 20, connections: int = 16, threads: int = 2,
        headers: dict[str, str] | None = None) -> Figures:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        extra = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items())
        script.write(_WRK_SCRIPT.format(method=method, body=json.dumps(body), content_type=content_type, accept=accept,
                                        extra_headers=extra))
    processes = _server_processes(url)
    cpu_before = _cpu_seconds(processes)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "-s", script.name, url],
                         check=True, capture_output=True, text=True).stdout
    cpu_used = [after - before for before, after in zip(cpu_before, _cpu_seconds(processes), strict=True)]
    os.unlink(script.name)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) \d+ ([\d.]+) ([\d.]+)", out)
    if not match:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    count, errors, duration_us, p50_us, p99_us = match.groups()
    app_ms, db_ms = (1000 * used / int(count) for used in cpu_used) if processes and int(count) else (None, None)
    return Figures(name, int(count) / (int(duration_us) / 1e6), float(p50_us) / 1000, float(p99_us) / 1000, int(errors),
                   app_ms, db_ms)


def _server_processes(url: str) -> tuple[list[int], list[int]] | None:
    """The pids of a gunicorn of ours serving `url`: its workers, and their PostgreSQL backends
    (on this machine); None for another server."""
    master = next((pid for base, pid in _SERVERS.items() if url.startswith(base)), None)
    if master is None:
        return None
    workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    engine = create_engine(PG_URL)
    with engine.connect() as conn:
        backends = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                                     {"name": APPLICATION_NAME}).scalars())
    engine.dispose()
    return workers, backends


def _cpu_seconds(processes: tuple[list[int], list[int]] | None) -> tuple[float, float]:
    """User + system CPU of the workers and of the backends, from /proc (a process gone counts 0)."""
    if processes is None:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    totals = []
    for pids in processes:
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        totals.append(total / tick)
    return totals[0], totals[1]
