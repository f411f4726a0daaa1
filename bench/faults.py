"""A fault run: the system on loopback (gunicorn, one worker with the real model, its own PostgreSQL
cluster and Redis server) under 2 POSTs/s, while the parts under it fail the way they do in production.

Cases, each on a fresh order stream:
  redis      SIGKILL of Redis for --outage seconds, restarted from its append-only file
  postgres   pg_ctl restart -m fast
  worker     SIGKILL of the worker mid-draft, a replacement started at once
  storage    the store refuses every write for 10 s (its folder replaced by a file)
  callback   a receiver that answers 500 to everything
Per case it prints: worker processes that exited on their own, answers that were not 200,
orders not finished (40 Awaiting review or 90 Failed) 2 minutes after the part came back, and
how long after the part came back the last order finished.

Targets (issue 16): no worker exits, 0 orders stuck, no 500 on a PostgreSQL restart.
Usage: .venv/bin/python bench/faults.py [--outage 30] [--cases redis,postgres,worker,storage,callback]
Needs PostgreSQL's initdb and pg_ctl (run as the postgres user when started as root).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from load import ROOT, _free_port, flask_cli, gunicorn
from sqlalchemy import create_engine, text

sys.path.insert(0, str(ROOT))
from tests.support.image_server import ImageServer  # noqa: E402
from tests.support.pictures import encode  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

FLASK = str(Path(sys.executable).parent / "flask")
STUCK_AFTER = 120  # seconds after the part is back
FINISHED = "status IN (40, 90)"  # the pipeline's work is done: awaiting an operator, or failed


class Postgres:
    """A private cluster, so the run may restart it without touching the machine's server."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.data = folder / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _run(self, *args: str) -> None:
        # Output to a file, never a pipe: the postmaster pg_ctl starts would hold a pipe open for ever.
        with (self.folder / "pg_ctl.log").open("a") as log:
            subprocess.run([*self._as, *args], check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


@dataclass
class Stream:
    """2 POSTs/s from a thread; every answer kept."""

    base: str
    body: dict
    tickets: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Stream:
        threading.Thread(target=self._post, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def _post(self) -> None:
        while not self._stop.wait(0.5):
            try:
                answer = requests.post(f"{self.base}/REST.svc/Image/", json=self.body, timeout=10,
                                       headers={"Accept": "application/json"})
                if answer.status_code == 200 and answer.json().get("IMAGETICKET"):
                    self.tickets.append(answer.json()["IMAGETICKET"])
                else:
                    self.bad.append(f"HTTP {answer.status_code} {answer.text[:120]}")
            except requests.RequestException as exc:
                self.bad.append(type(exc).__name__)


@dataclass
class System:
    env: dict[str, str]
    base: str
    body: dict
    folder: Path
    images: ImageServer
    workers: list[subprocess.Popen] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)  # pids the run killed itself: not exits of their own

    def job_running(self, stream: Stream) -> None:
        """Place an order whose download takes 5 s and return once a worker is inside that job."""
        path = f"/slow-{len(self.images.requests)}.png"
        picture = encode("PNG", (256, 256))
        url = self.images.serve_chunked(path, picture, chunk_size=len(picture) // 10 + 1, interval=0.5)
        answer = requests.post(f"{self.base}/REST.svc/Image/", json={**self.body, "ImageURL": url}, timeout=10,
                               headers={"Accept": "application/json"})
        stream.tickets.append(answer.json()["IMAGETICKET"])
        deadline = time.monotonic() + 60
        while not self.images.seen(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)

    def start_worker(self) -> subprocess.Popen:
        log = (self.folder / f"worker-{len(self.workers)}.log").open("w")
        worker = subprocess.Popen([FLASK, "--app", "app", "worker"], cwd=ROOT, env=self.env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(worker)
        return worker

    def exited(self) -> int:
        return sum(1 for w in self.workers if w.poll() is not None and w.pid not in self.killed)

    def unfinished(self, tickets: list[str], done: str = FINISHED) -> int:
        if not tickets:
            return 0
        engine = create_engine(self.env["DATABASE_URL"])
        with engine.connect() as conn:
            count = conn.execute(text(f"SELECT count(*) FROM orders WHERE ticket = ANY(:t) AND {done}"),
                                 {"t": tickets}).scalar_one()
        engine.dispose()
        return len(tickets) - count

    def wait_finished(self, tickets: list[str], since: float, done: str = FINISHED) -> tuple[int, float]:
        """(orders still unfinished STUCK_AFTER s after `since`, seconds until the last finished)."""
        while time.monotonic() - since < STUCK_AFTER:
            if self.unfinished(tickets, done) == 0:
                return 0, time.monotonic() - since
            time.sleep(0.5)
        return self.unfinished(tickets, done), float("nan")


def _line(case: str, system: System, stream: Stream, since: float, note: str = "",
          done: str = FINISHED) -> None:
    stuck, took = system.wait_finished(stream.tickets, since, done)
    print(f"{case:<9} orders {len(stream.tickets):3d}   worker exits {system.exited()}   "
          f"non-200 {len(stream.bad)}   stuck after 2 min {stuck}   all finished {took:5.1f} s after the part "
          f"was back   {note}", flush=True)
    for bad in stream.bad[:3]:
        print(f"          {bad}")


def case_redis(system: System, redis: RedisServer, outage: float, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        system.job_running(stream)
        redis.kill()
        time.sleep(outage)
        redis.start()
        back = time.monotonic()
        time.sleep(3)
    _line("redis", system, stream, back, f"(outage {outage:.0f} s)")


def case_postgres(system: System, postgres: Postgres, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        system.job_running(stream)
        postgres.restart()
        back = time.monotonic()
        time.sleep(5)
    _line("postgres", system, stream, back)


def case_worker(system: System, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        system.job_running(stream)
        victim = next(w for w in system.workers if w.poll() is None)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        system.killed.add(victim.pid)
        system.start_worker()
        back = time.monotonic()
        time.sleep(3)
    _line("worker", system, stream, back, "(killed mid-job; replacement started at the kill)")


def case_storage(system: System, **_: object) -> None:
    store = Path(system.env["STORAGE_DIR"]) / "orders"
    aside = store.with_name("orders.aside")
    with Stream(system.base, system.body) as stream:
        time.sleep(2)
        store.rename(aside)
        store.write_text("not a folder: every write under it fails")
        time.sleep(10)
        store.unlink()
        aside.rename(store)
        back = time.monotonic()
        time.sleep(3)
    _line("storage", system, stream, back, f"(FAULT_RETRY_INTERVALS {system.env['FAULT_RETRY_INTERVALS']})")


def case_callback(system: System, receiver_url: str, missing_url: str, **_: object) -> None:
    # Orders of a missing image fail at once, and a failed order calls back too.
    body = {**system.body, "ImageURL": missing_url, "ImageCallbackURL": receiver_url}
    with Stream(system.base, body) as stream:
        time.sleep(5)
    back = time.monotonic()
    _line("callback", system, stream, back, "(receiver answers 500: until every callback is failed, "
          "after 4 attempts)", done="callback_state = 'failed'")


CASES: dict[str, Callable[..., None]] = {"redis": case_redis, "postgres": case_postgres, "worker": case_worker,
                                         "storage": case_storage, "callback": case_callback}


def _tiny_model(folder: Path) -> dict[str, str]:
    """The tests' box model: drafts in milliseconds, so a 2-core machine keeps up with 2 orders/s."""
    from segmentation.model_store import add_model_from_file
    from tests.support.onnx_models import box_model

    folder.mkdir(parents=True, exist_ok=True)
    add_model_from_file(box_model(folder / "box.onnx"), None, "tiny-box", folder)
    return {"MODEL_DIR": str(folder), "SEGMENTATION_MODEL": "tiny-box"}


@contextlib.contextmanager
def system_on(postgres: Postgres, redis: RedisServer, images: ImageServer, real_model: bool) -> Iterator[System]:
    folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    env = dict(os.environ, DATABASE_URL=postgres.url, REDIS_URL=redis.url, INSTANCE_DIR=str(folder / "instance"),
               RATE_LIMIT="100000/minute", FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*",
               FAULT_RETRY_INTERVALS="1,2,4",
               CALLBACK_RETRY_INTERVALS="1,2,3")
    env["STORAGE_DIR"] = str(folder / "storage")
    if not real_model:
        env.update(_tiny_model(folder / "models"))
    image_url = images.serve_bytes("/photo.jpg", encode("JPEG", (1600, 1200)), "image/jpeg")
    flask_cli(env, "init-db")
    api_key = flask_cli(env, "create-customer", "faults@example.com").split()[-1]
    template = flask_cli(env, "create-template", "--name", "Faults", "--price", "1", "--currency-id", "1",
                         "--delivery-hours", "24").split()[-1]
    body = {"ContactEmail": "faults@example.com", "ContactAPIkey": api_key, "templateId": template,
            "ImageURL": image_url}
    with gunicorn(env, workers=2, threads=4) as base:
        system = System(env, base, body, folder, images)
        system.start_worker()
        try:
            yield system
        finally:
            for worker in system.workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--real-model", action="store_true",
                        help="draft with ISNet (the worker must then keep up with 2 drafts/s: not on 2 cores)")
    args = parser.parse_args()
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        raise SystemExit("needs PostgreSQL's initdb and pg_ctl on the PATH")

    folder = Path(tempfile.mkdtemp(prefix="bench-faults-servers-"))
    folder.chmod(0o755)  # the postgres user must reach its cluster inside
    postgres, redis = Postgres(folder / "pg"), RedisServer(folder / "redis")
    (folder / "pg").mkdir()
    images, receiver = ImageServer(), ImageServer()
    images.start()
    receiver.start()
    receiver_url = receiver.serve_status("/hook", 500)
    missing_url = images.serve_status("/missing.jpg", 404)
    postgres.start()
    redis.start()
    try:
        with system_on(postgres, redis, images, args.real_model) as system:
            print(f"one worker ({system.env.get('SEGMENTATION_MODEL', 'isnet-general-use')}), gunicorn 2x4, "
                  f"2 POSTs/s of a 1600x1200 JPEG and one slow download under each fault; defaults for "
                  f"heartbeat, sweep and grace", flush=True)
            for name in args.cases.split(","):
                CASES[name](system, postgres=postgres, redis=redis, outage=args.outage, receiver_url=receiver_url,
                            missing_url=missing_url)
    finally:
        redis.kill()
        postgres.stop()
        images.stop()
        receiver.stop()


if __name__ == "__main__":
    main()
