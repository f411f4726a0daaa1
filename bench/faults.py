"""The fault run (issue 12): the system on loopback as `make run` starts it (gunicorn 2x4, a segment
worker and a worker for fetch,render,callback,default) on a PostgreSQL cluster, a Redis server and an
S3 endpoint of its own, under 2 POSTs/s, while the parts under it fail the way they do in production.

Every order is a test-mode order (`Test=1`, see README, POST Image): the draft is approved by the
actor test-mode, then rendered, delivered into the S3 bucket and called back, so each order runs the
whole pipeline to 80 Delivered with no operator. Each has a callback URL on a loopback receiver.

Cases, each on a fresh order stream:
  redis     Redis SIGKILLed for --outage s while orders are posted (and a download runs), then restarted
            from its append-only file
  postgres  `pg_ctl restart -m fast` while orders flow and a draft job runs
  worker    the segment worker SIGKILLed mid-draft, a replacement started at once
  callback  the receiver down (connections refused) for the whole retry schedule (CALLBACK_RETRY_INTERVALS
            1,2,3 here); once every callback is failed it comes back and each is sent again with
            `flask --app app resend-callback TICKET`
  storage   the S3 endpoint unreachable for --outage s during renders
"Mid-draft": the tiny box model drafts an 800x600 photo in milliseconds, so cases postgres and worker
place one order of a 4900x4900 PNG, whose draft (decoding, mask resizing and encoding at 24 MP) takes
about 1.5 s with that model on a 2-core machine, and strike 0.3 s after the segment worker started its
job; the row says whether the order was still in 20 Segmenting then. --real-model drafts every order
with ISNet instead (about 5 s a draft on one core: the worker then falls behind 2 orders/s).
The S3 endpoint is moto's server behind a TCP proxy (tests/support/tcp_proxy.py): moto keeps objects in
memory, so stopping its process would lose the bucket; cutting the proxy refuses new connections and
breaks open ones while the store keeps its state, as an unreachable endpoint does. The receiver sits
behind a proxy of its own for the same reason.

Per case one row: orders posted; acknowledged (HTTP 200 with a ticket); delivered (80); failed (90),
by reason; lost (an acknowledged ticket with no order row, or an answer that was not the API's
envelope: HTML, no answer, a 200 without ticket); stuck (neither delivered nor failed STUCK_AFTER s after
the part came back); seconds from the part's return until every acknowledged order was delivered or
failed; orders whose callback reached the receiver; and the answers clients got during the fault, by
HTTP status and whether the body was the API's JSON envelope (ERRORCODE; the stream asks with
Accept: application/json).

Targets: 0 lost, 0 stuck, every acknowledged order delivered or failed with a named reason, recovery
<= 120 s after the part returns, only envelopes answered.
Usage: .venv/bin/python bench/faults.py [--outage 30] [--cases redis,postgres,worker,callback,storage]
Needs PostgreSQL's initdb and pg_ctl (run as the postgres user when started as root) and moto[server].
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import redis as redis_client
import requests
from load import ROOT, _free_port, flask_cli, gunicorn
from PIL import Image
from sqlalchemy import create_engine, text

sys.path.insert(0, str(ROOT))
from tests.support.image_server import ImageServer  # noqa: E402
from tests.support.pictures import encode  # noqa: E402
from tests.support.receiver import CallbackReceiver  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.s3_server import S3Server  # noqa: E402
from tests.support.tcp_proxy import TcpProxy  # noqa: E402

FLASK = str(Path(sys.executable).parent / "flask")
STUCK_AFTER = 120  # seconds after the part is back
FINISHED = (80, 90)  # Delivered, Failed
BUCKET = "faults"
QUEUES = {"segment": "segment", "light": "fetch,render,callback,default"}  # as `make run` splits them


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


@dataclass(frozen=True)
class Answer:
    at: float  # when the POST was sent (monotonic)
    ref: str  # CustomerImageId and IdempotencyKey of the POST
    kind: str  # "200 envelope", "503 envelope", "500 HTML", "ConnectionError", …
    ticket: str | None  # IMAGETICKET of an acknowledged order

    @property
    def envelope(self) -> bool:
        return self.kind.endswith(" envelope")


_refs = itertools.count(1)


def post_order(base: str, body: dict) -> Answer:
    """One POST Image as a careful client sends it: its own reference as the idempotency key."""
    ref = f"faults-{next(_refs)}"
    at = time.monotonic()
    try:
        answer = requests.post(f"{base}/REST.svc/Image/", json={**body, "CustomerImageId": ref, "IdempotencyKey": ref},
                               headers={"Accept": "application/json"}, timeout=15)
    except requests.RequestException as exc:
        return Answer(at, ref, type(exc).__name__, None)
    try:
        data = answer.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or "ERRORCODE" not in data:
        looks = "HTML" if "html" in answer.headers.get("Content-Type", "") else "not an envelope"
        return Answer(at, ref, f"{answer.status_code} {looks}", None)
    ticket = data.get("IMAGETICKET") if answer.status_code == 200 and data["ERRORCODE"] == "noError" else None
    return Answer(at, ref, f"{answer.status_code} envelope", ticket or None)


@dataclass
class Stream:
    """2 POSTs/s from a thread; every answer kept."""

    base: str
    body: dict
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Stream:
        threading.Thread(target=self._post, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        time.sleep(0.5)

    def _post(self) -> None:
        while not self._stop.wait(0.5):
            # One thread in turn: a POST held up by the fault delays the next, as a client's queue would.
            self.answers.append(post_order(self.base, self.body))


@dataclass
class System:
    env: dict[str, str]
    base: str
    body: dict
    folder: Path
    images: ImageServer
    receiver: CallbackReceiver
    photo: bytes
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    started: int = 0
    killed: set[int] = field(default_factory=set)  # pids the run killed itself: not exits of their own
    names: list[str] = field(default_factory=list)  # every worker started, by its RQ name

    def start_worker(self, role: str) -> subprocess.Popen:
        self.started += 1
        name = f"faults-{role}-{self.started}"  # a fresh name: a killed worker's stays registered for a while
        self.names.append(name)
        log = (self.folder / f"{name}.log").open("w")
        worker = subprocess.Popen([FLASK, "--app", "app", "worker", "--queues", QUEUES[role], "--name", name],
                                  cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers[role] = worker
        return worker

    def wait_for_workers(self) -> None:
        """Until every worker is listed by RQ: the first fault must not come before the system is up."""
        from rq import Worker

        connection = redis_client.Redis.from_url(self.env["REDIS_URL"])
        names = set(self.names)
        deadline = time.monotonic() + 120
        while {w.name for w in Worker.all(connection=connection)} < names:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {names} did not start; logs in {self.folder}")
            time.sleep(0.5)

    def worker_exits(self) -> int:
        """Worker processes that ended on their own (the run replaces none but the one it kills)."""
        return sum(1 for w in self.workers.values() if w.poll() is not None and w.pid not in self.killed)

    def sql(self, query: str, **params: object) -> list:
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params))
        finally:
            engine.dispose()

    def orders(self, tickets: list[str]) -> dict[str, tuple[int, str | None, str | None]]:
        """ticket -> (status, failure_reason, callback_state)."""
        if not tickets:
            return {}
        rows = self.sql("SELECT ticket, status, failure_reason, callback_state FROM orders WHERE ticket = ANY(:t)",
                        t=tickets)
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def draft_running(self, big_url: str, stream: Stream) -> str:
        """Order the 24 MP PNG; return its ticket once the segment worker has been in its draft job 0.3 s."""
        answer = post_order(self.base, {**self.body, "ImageURL": big_url})
        stream.answers.append(answer)
        (order_id,) = self.sql("SELECT id FROM orders WHERE ticket = :t", t=answer.ticket)[0]
        from rq.registry import StartedJobRegistry

        connection = redis_client.Redis.from_url(self.env["REDIS_URL"])
        registry = StartedJobRegistry("segment", connection=connection)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for job in registry.get_job_ids():
                if _job_args(connection, job) == [order_id]:
                    time.sleep(0.3)
                    return answer.ticket
            time.sleep(0.02)
        raise RuntimeError("the big order's draft job never started")


def _job_args(connection: redis_client.Redis, job_id: str) -> list | None:
    from rq.job import Job

    with contextlib.suppress(Exception):
        return list(Job.fetch(job_id, connection=connection).args)
    return None


@dataclass
class Row:
    case: str
    stream: Stream
    fault: tuple[float, float]  # the part went away, the part was back (monotonic)
    note: str = ""
    window: tuple[float, float] | None = None  # when the answers count as "during the fault"; default `fault`
    callbacks_since: float = 0.0  # count the callbacks received from then on


def report(system: System, row: Row, done: Callable[[tuple], bool] | None = None) -> None:
    """Wait until every acknowledged order is finished (or STUCK_AFTER), then print the case's row."""
    done = done or (lambda order: order[0] in FINISHED)
    answers = row.stream.answers
    acked = [a.ticket for a in answers if a.ticket]
    unclear = [a for a in answers if not a.envelope or (a.kind.startswith("200") and not a.ticket)]
    # An unclear answer may still have made an order: it must then be finished like the others.
    made = system.sql("SELECT ticket FROM orders WHERE customer_image_id = ANY(:r)", r=[a.ref for a in unclear])
    tracked = acked + [t for (t,) in made]
    back = row.fault[1]
    took = float("nan")
    while time.monotonic() - back < STUCK_AFTER:
        orders = system.orders(tracked)
        if len(orders) == len(tracked) and all(done(o) for o in orders.values()):
            took = time.monotonic() - back
            break
        time.sleep(0.5)
    # Callbacks go last (the callback queue comes after fetch and render): give them a minute more.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(o[2] == "pending" for o in system.orders(tracked).values()):
        time.sleep(0.5)
    orders = system.orders(tracked)
    called = {r.form.get("imageTicket") for r in system.receiver.received if r.at >= row.callbacks_since}
    delivered = sum(1 for o in orders.values() if o[0] == 80)
    failed = Counter(o[1] or "no reason" for o in orders.values() if o[0] == 90)
    stuck = Counter(str(o[0]) for o in orders.values() if not done(o))
    callbacks = Counter(str(o[2]) for o in orders.values())
    lost = sum(1 for t in acked if t not in orders) + len(unclear)
    start, end = row.window or row.fault
    during = Counter(a.kind for a in answers if start <= a.at <= end)
    print(f"{row.case:<9}{len(answers):>7}{len(acked):>6}{delivered:>6}{sum(failed.values()):>6}{lost:>6}"
          f"{sum(stuck.values()):>6}{took:>9.1f}{len(called & set(tracked)):>7}  "
          f"{', '.join(f'{k}: {n}' for k, n in sorted(during.items())) or '-'}", flush=True)
    details = [f"failed: {dict(failed)}" if failed else "", f"stuck by status: {dict(stuck)}" if stuck else "",
               f"unclear answers: {Counter(a.kind for a in unclear)}" if unclear else "",
               f"callback states: {dict(callbacks)}" if len(called & set(tracked)) < len(orders) else "",
               f"worker exits of their own: {system.worker_exits()}" if system.worker_exits() else "", row.note]
    for ticket, (status, _, state) in orders.items():
        if not done((status, _, state)):
            events = system.sql("SELECT e.at, e.from_status, e.to_status, e.actor FROM order_events e JOIN orders o "
                                "ON o.id = e.order_id WHERE o.ticket = :t ORDER BY e.id", t=ticket)
            details.append(f"stuck {ticket}: status {status}, callback {state}; events "
                           f"{[(str(e[0].time())[:8], e[1], e[2], e[3]) for e in events]}")
    for detail in filter(None, details):
        print(f"{'':<9}  {detail}", flush=True)


HEADER = (f"{'case':<9}{'posted':>7}{'acked':>6}{'80':>6}{'90':>6}{'lost':>6}{'stuck':>6}{'recover':>9}"
          f"{'cb':>7}  answers during the fault")


def case_redis(system: System, redis: RedisServer, outage: float, **_: object) -> None:
    slow = system.images.serve_chunked(f"/slow-{time.monotonic_ns()}.jpg", system.photo,
                                       chunk_size=len(system.photo) // 10 + 1, interval=0.5)
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        stream.answers.append(post_order(system.base, {**system.body, "ImageURL": slow}))  # a download under the kill
        time.sleep(1)
        redis.kill()
        down = time.monotonic()
        time.sleep(outage)
        redis.start()
        back = time.monotonic()
        time.sleep(3)
    report(system, Row("redis", stream, (down, back), f"Redis SIGKILLed for {outage:.0f} s, restarted from its AOF"))


def case_postgres(system: System, postgres: Postgres, big_url: str, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        ticket = system.draft_running(big_url, stream)
        down = time.monotonic()
        postgres.restart()
        back = time.monotonic()
        status = system.orders([ticket])[ticket][0]
        time.sleep(5)
    # A restart takes about a second, which a POST every 0.5 s may miss: the answers counted are those
    # of the restart and the 5 s after, when pooled connections to the old server are met.
    report(system, Row("postgres", stream, (down, back),
                       f"pg_ctl restart -m fast took {back - down:.1f} s; the big order was in status {status} "
                       f"when it returned; answers counted: the restart and the 5 s after",
                       window=(down, time.monotonic())))


def case_worker(system: System, big_url: str, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(3)
        ticket = system.draft_running(big_url, stream)
        victim = system.workers["segment"]
        os.killpg(victim.pid, signal.SIGKILL)
        down = time.monotonic()
        victim.wait()
        status = system.orders([ticket])[ticket][0]
        system.killed.add(victim.pid)
        system.start_worker("segment")
        back = time.monotonic()
        time.sleep(5)
    # The part is back when its replacement starts, at once; the answers counted are those of the 5 s after.
    report(system, Row("worker", stream, (down, back),
                       f"segment worker SIGKILLed with the big order in status {status} (20: mid-draft); "
                       f"replacement started at once; answers counted: the 5 s after the kill",
                       window=(down, time.monotonic())))


def case_callback(system: System, receiver_proxy: TcpProxy, **_: object) -> None:
    receiver_proxy.down()
    down = time.monotonic()
    with Stream(system.base, system.body) as stream:
        time.sleep(5)
    tickets = [a.ticket for a in stream.answers if a.ticket]
    # The whole retry schedule spent: every callback failed (or none to send: a failed order is called back too).
    deadline = time.monotonic() + STUCK_AFTER
    while time.monotonic() < deadline:
        if all(o[2] == "failed" for o in system.orders(tickets).values()) and len(system.orders(tickets)) == len(
                tickets):
            break
        time.sleep(0.5)
    spent = time.monotonic() - down
    before = {r.form.get("imageTicket") for r in system.receiver.received} & set(tickets)
    receiver_proxy.up()
    back = time.monotonic()
    for ticket in tickets:  # one CLI process each, as an operator would
        flask_cli(system.env, "resend-callback", ticket)
    resent = time.monotonic() - back
    report(system, Row("callback", stream, (down, back),
                       f"receiver down {spent:.0f} s, until every callback was failed ({len(before)} got through); "
                       f"then back, {len(tickets)} resent with resend-callback in {resent:.0f} s; recovery: until "
                       f"every callback was delivered; cb: callbacks received after the receiver came back",
                       callbacks_since=back),
           done=lambda order: order[0] in FINISHED and order[2] in ("delivered", "gone"))


def case_storage(system: System, s3_proxy: TcpProxy, outage: float, **_: object) -> None:
    with Stream(system.base, system.body) as stream:
        time.sleep(4)  # renders under way
        s3_proxy.down()
        down = time.monotonic()
        time.sleep(outage)
        s3_proxy.up()
        back = time.monotonic()
        time.sleep(3)
    report(system, Row("storage", stream, (down, back),
                       f"S3 endpoint unreachable for {outage:.0f} s; FAULT_RETRY_INTERVALS "
                       f"{system.env['FAULT_RETRY_INTERVALS']}"))


CASES: dict[str, Callable[..., None]] = {"redis": case_redis, "postgres": case_postgres, "worker": case_worker,
                                         "callback": case_callback, "storage": case_storage}


def _tiny_model(folder: Path) -> dict[str, str]:
    """The tests' box model: drafts in milliseconds, so a 2-core machine keeps up with 2 orders/s."""
    from segmentation.model_store import add_model_from_file
    from tests.support.onnx_models import box_model

    folder.mkdir(parents=True, exist_ok=True)
    add_model_from_file(box_model(folder / "box.onnx"), None, "tiny-box", folder)
    return {"MODEL_DIR": str(folder), "SEGMENTATION_MODEL": "tiny-box"}


def big_png(side: int = 4900) -> bytes:
    """A smooth 24 MP PNG (small on the wire, slow to draft: everything at full size is 24 MP)."""
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)), np.full((side, side), 90,
                                                                                             np.uint8)], -1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@contextlib.contextmanager
def system_on(postgres: Postgres, redis: RedisServer, s3: dict[str, str], images: ImageServer,
              receiver: CallbackReceiver, callback_url: str, real_model: bool) -> Iterator[System]:
    folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    env = dict(os.environ, DATABASE_URL=postgres.url, REDIS_URL=redis.url, INSTANCE_DIR=str(folder / "instance"),
               RATE_LIMIT="100000/minute", RATE_LIMIT_PER_ADDRESS="100000/minute",
               FETCH_ALLOW_PRIVATE_NETWORKS="1", FETCH_ALLOWED_PORTS="*",
               CALLBACK_RETRY_INTERVALS="1,2,3", **s3)
    env.pop("STORAGE_DIR", None)
    env["FAULT_RETRY_INTERVALS"] = "1,5,15,30,60,120"  # the default, spelled out: a 30 s outage lies within it
    if real_model:
        env["SEGMENT_THREADS"] = "1"
    else:
        env.update(_tiny_model(folder / "models"))
    photo = encode("JPEG", (800, 600))
    image_url = images.serve_bytes("/photo.jpg", photo, "image/jpeg")
    flask_cli(env, "init-db")
    api_key = flask_cli(env, "create-customer", "faults@example.com").split()[-1]
    template = flask_cli(env, "create-template", "--name", "Faults", "--price", "1", "--currency-id", "1",
                         "--delivery-hours", "24").split()[-1]
    body = {"ContactEmail": "faults@example.com", "ContactAPIkey": api_key, "templateId": template,
            "ImageURL": image_url, "ImageCallbackURL": callback_url, "Test": "1"}
    print(f"logs in {folder}", flush=True)
    with gunicorn(env, workers=2, threads=4, log=folder / "gunicorn.log") as base:
        requests.get(f"{base}/healthz", timeout=5).raise_for_status()  # load.gunicorn does not say when it failed
        system = System(env, base, body, folder, images, receiver, photo)
        system.start_worker("segment")
        system.start_worker("light")
        system.wait_for_workers()
        try:
            yield system
        finally:
            for worker in system.workers.values():
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--real-model", action="store_true",
                        help="draft with ISNet (the worker then falls behind 2 drafts/s on 2 cores)")
    args = parser.parse_args()
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        raise SystemExit("needs PostgreSQL's initdb and pg_ctl on the PATH")

    folder = Path(tempfile.mkdtemp(prefix="bench-faults-servers-"))
    folder.chmod(0o755)  # the postgres user must reach its cluster inside
    postgres, redis = Postgres(folder / "pg"), RedisServer(folder / "redis")
    (folder / "pg").mkdir()
    s3 = S3Server()
    images, receiver = ImageServer(), CallbackReceiver()
    receiver_proxy = TcpProxy(("127.0.0.1", int(receiver.url().split(":")[2].split("/")[0])))
    images.start()
    big_url = images.serve_bytes("/big.png", big_png(), "image/png")
    postgres.start()
    redis.start()
    s3.start()
    s3.client().create_bucket(Bucket=BUCKET)
    s3_proxy = TcpProxy(("127.0.0.1", s3.port))
    s3_proxy.up()
    receiver_proxy.up()
    settings = {**s3.settings(f"s3://{BUCKET}/orders"), "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_proxy.port}"}
    try:
        with system_on(postgres, redis, settings, images, receiver, f"http://127.0.0.1:{receiver_proxy.port}/hook",
                       args.real_model) as system:
            print(f"gunicorn 2x4, a segment worker ({system.env.get('SEGMENTATION_MODEL', 'isnet-general-use')}) "
                  f"and a fetch,render,callback,default worker; PostgreSQL, Redis (AOF) and moto S3 on loopback; "
                  f"2 POSTs/s of an 800x600 JPEG in test mode, each called back", flush=True)
            print(HEADER, flush=True)
            for name in args.cases.split(","):
                CASES[name](system, postgres=postgres, redis=redis, outage=args.outage, big_url=big_url,
                            receiver_proxy=receiver_proxy, s3_proxy=s3_proxy)
    finally:
        redis.kill()
        postgres.stop()
        s3.stop()
        s3_proxy.down()
        receiver_proxy.down()
        images.stop()
        receiver.stop()


if __name__ == "__main__":
    main()
