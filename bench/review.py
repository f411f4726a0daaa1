"""The review dashboard under load, and the review page's first paint in a real browser.

20,000 orders await review in PostgreSQL (bulk-inserted, their drafts pointing at
one small shared preview). 8 operators work at once over real HTTP against
gunicorn: each is a thread with its own signed-in session (cookie and CSRF token,
as a browser has), looping claim-next -> queue page -> approve, as the review
page does after each approval. Two runs: paced, each operator pausing --pause
seconds after each approval (0.5 s: two decisions a second each, faster than any
person; the target p99 <= 100 ms applies here), then saturated, no pause at all,
which measures capacity (latency there is mostly waiting for a free CPU).
Then the review page of a 12 MP order in Chromium (Playwright): first paint and
first contentful paint (performance.getEntriesByType('paint')), the moment the
images are on the canvases, and the moment the full-size mask is editable, once
with the server's scaled copies still to make (cold) and once cached (warm).

Usage: .venv/bin/python bench/review.py [--orders 20000] [--operators 8] [--seconds 30] [--pause 0.5]
                                       [--workers 4] [--threads 2] [--no-browser]
Needs PostgreSQL and Redis on 127.0.0.1 (see bench/load.py), and for the browser
part /usr/bin/chromium (apt-get install -y chromium) and playwright (requirements-test.txt).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import requests
from load import bench_env, gunicorn
from PIL import Image, ImageDraw

SCHEMA = "clipping_orders_bench_review"
PASSWORD = "bench operator password"
WARM_UP_SECONDS = 3
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- the data -----------------------------------------------------------------------------


def make_app(env: dict[str, str]):
    os.environ.update(env)
    from app import create_app

    return create_app()


def seed(app, orders: int, operators: int) -> tuple[int, int]:
    """Operators, a customer, a template and `orders` orders awaiting review; returns (customer, template) ids."""
    from infrastructure import storage
    from orders import customers, templates
    from orders import operators as accounts

    with app.app_context():
        customer, _key = customers.create_customer("bench@example.com")
        template = templates.create_template(name="Bench", price="1", currency_id=1, delivery_hours=24)
        for number in range(operators):
            accounts.create_operator(f"op{number}", PASSWORD)
        shared = _shared_files(storage)
        _insert_orders(orders, customer.id, template.id, shared)
        return customer.id, template.id


def _shared_files(storage) -> dict[str, str]:
    """One small original, draft mask and preview that every bench order points at."""
    files = {"original_path": "bench/original.jpg", "mask_path": "bench/mask-v0.png",
             "preview_path": "bench/preview.jpg"}
    storage.write_bytes(files["original_path"], _encoded(Image.new("RGB", (320, 240), "tan"), "JPEG"))
    storage.write_bytes(files["mask_path"], _encoded(_ellipse_mask((320, 240)), "PNG"))
    storage.write_bytes(files["preview_path"], _encoded(Image.new("RGB", (320, 240), "grey"), "JPEG"))
    return files


def _insert_orders(count: int, customer_id: int, template_id: int, files: dict[str, str]) -> None:
    from infrastructure.extensions import db
    from orders.codes import Status
    from orders.models import Order, utcnow

    now = utcnow()
    rng = random.Random(1)
    rows = [{
        "ticket": str(uuid.uuid4()), "customer_id": customer_id, "template_id": template_id,
        "price_amount": 1, "currency_id": 1, "image_url": "https://images.example/a.jpg", "delivery_hours": 24,
        "due_at": now + timedelta(minutes=rng.randrange(30, 48 * 60)), "status": int(Status.AWAITING_REVIEW),
        "draft_confidence": rng.random(), "original_width": 320, "original_height": 240,
        "original_format": "JPEG", "created_at": now, "updated_at": now, **files,
    } for _ in range(count)]
    for start in range(0, count, 5000):  # Core executemany in batches: 20,000 rows in about a second
        db.session.execute(db.insert(Order), rows[start:start + 5000])
    db.session.commit()
    db.session.execute(db.text("ANALYZE orders"))
    db.session.commit()


def add_12mp_order(app, customer_id: int, template_id: int) -> str:
    """A 12 MP photo with its full-size draft mask, due before everything else."""
    from segment import photo_like_jpeg

    from infrastructure import storage
    from infrastructure.extensions import db
    from orders.codes import Status
    from orders.models import MaskVersion, Order, utcnow

    size = (4000, 3000)
    ticket = str(uuid.uuid4())
    folder = storage.order_dir(ticket)
    with app.app_context():
        storage.write_bytes(f"{folder}/original.jpg", photo_like_jpeg(size))
        sha = storage.write_bytes(f"{folder}/mask-v0.png", _encoded(_ellipse_mask(size), "PNG"))
        storage.write_bytes(f"{folder}/preview.jpg", _encoded(Image.new("RGB", (1024, 768), "grey"), "JPEG"))
        now = utcnow()
        order = Order(ticket=ticket, customer_id=customer_id, template_id=template_id, price_amount=1, currency_id=1,
                      image_url="https://images.example/big.jpg", delivery_hours=24, due_at=now - timedelta(days=1),
                      status=int(Status.AWAITING_REVIEW), draft_confidence=0.5, original_width=size[0],
                      original_height=size[1], original_format="JPEG", original_path=f"{folder}/original.jpg",
                      mask_path=f"{folder}/mask-v0.png", preview_path=f"{folder}/preview.jpg")
        db.session.add(order)
        db.session.flush()
        db.session.add(MaskVersion(order_id=order.id, number=0, path=order.mask_path, sha256=sha, source="model",
                                   author="bench"))
        db.session.commit()
    return ticket


def _ellipse_mask(size: tuple[int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    w, h = size
    ImageDraw.Draw(mask).ellipse((w * 0.2, h * 0.15, w * 0.8, h * 0.85), fill=255)
    return mask


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return buffer.getvalue()


# --- the operators ------------------------------------------------------------------------


def sign_in(session: requests.Session, base: str, name: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    for _attempt in range(20):
        token = TOKEN.search(session.get(f"{base}/dashboard/login").text).group(1)
        answer = session.post(f"{base}/dashboard/login", data={"name": name, "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False)
        if answer.status_code == 302:
            return TOKEN.search(session.get(f"{base}/dashboard/").text).group(1)
        if answer.status_code != 429:
            raise RuntimeError(f"{name} could not sign in: HTTP {answer.status_code}")
        time.sleep(6)  # the per-address sign-in limit: every bench client is on 127.0.0.1
    raise RuntimeError(f"{name} could not sign in: rate limited")


def operate(session: requests.Session, token: str, base: str, pause: float, stop_at: float,
            timings: dict[str, list[float]], errors: list[str]) -> None:
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    measure_from = time.monotonic() + WARM_UP_SECONDS
    while time.monotonic() < stop_at:
        claimed, took = _timed(lambda: session.post(f"{base}/dashboard/api/claim-next", json={}, headers=headers))
        queue_page, queue_took = _timed(lambda: session.get(f"{base}/dashboard/"))
        ticket = claimed.json().get("ticket") if claimed.ok else None
        if ticket is None:
            errors.append(f"claim-next: HTTP {claimed.status_code} {claimed.text[:100]}")
            continue
        approved, approve_took = _timed(
            lambda ticket=ticket: session.post(f"{base}/dashboard/api/orders/{ticket}/approve", json={},
                                               headers=headers))
        for response, step in ((queue_page, "queue page"), (approved, "approve")):
            if not response.ok:
                errors.append(f"{step}: HTTP {response.status_code}")
        if time.monotonic() >= measure_from:
            timings["claim-next"].append(took)
            timings["queue page"].append(queue_took)
            timings["approve"].append(approve_took)
        time.sleep(pause)


def _timed(call):
    start = time.perf_counter()
    response = call()
    return response, (time.perf_counter() - start) * 1000


def signed_in_operators(base: str, operators: int) -> list[tuple[requests.Session, str]]:
    signed_in = []
    for number in range(operators):
        session = requests.Session()
        signed_in.append((session, sign_in(session, base, f"op{number}")))
    return signed_in


def run_operators(base: str, operators: list[tuple[requests.Session, str]], seconds: int,
                  pause: float) -> tuple[dict[str, list[float]], list[str]]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    stop_at = time.monotonic() + WARM_UP_SECONDS + seconds
    threads = [threading.Thread(target=operate, args=(session, token, base, pause, stop_at, timings, errors))
               for session, token in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, errors


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[98]


# --- the browser --------------------------------------------------------------------------

PAINT_FIGURES = """() => {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  return {paint: at("first-paint"), contentful: at("first-contentful-paint"),
          image: at("review-first-image"), ready: at("review-ready")};
}"""


def first_paint(base: str, ticket: str) -> list[tuple[str, dict]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        state = _signed_in_state(browser, base)
        for label in ("cold: the server makes the scaled copies", "warm: scaled copies cached on the server"):
            # A fresh context each time: nothing in the browser's own cache.
            context = browser.new_context(storage_state=state, viewport={"width": 1600, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/dashboard/")
            token = page.get_attribute('meta[name="csrf-token"]', "content")
            page.request.post(f"{base}/dashboard/review/{ticket}/claim", form={"csrf_token": token})
            page.goto(f"{base}/dashboard/review/{ticket}")
            page.wait_for_selector('#review[data-ready="1"]', timeout=120_000)
            results.append((label, page.evaluate(PAINT_FIGURES)))
            page.request.post(f"{base}/dashboard/api/orders/{ticket}/release", headers={"X-CSRFToken": token})
            context.close()
        browser.close()
    return results


def _signed_in_state(browser, base: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/dashboard/login")
    page.fill('input[name="name"]', "op0")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/dashboard/")
    state = context.storage_state()
    context.close()
    return state


# --- main ---------------------------------------------------------------------------------


def report(label: str, timings: dict[str, list[float]], errors: list[str], seconds: int, *, target: bool) -> None:
    print(f"{label}:")
    for step in ("claim-next", "queue page", "approve"):
        p50, p99 = percentiles(timings[step])
        verdict = ("ok" if p99 <= 100 else "over the 100 ms target") if target else ""
        print(f"  {step:<12} n={len(timings[step]):<6} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   {verdict}")
    print(f"  {len(timings['approve']) / seconds:.1f} orders approved per second in all; {len(errors)} errors"
          + (f" (first: {errors[0]})" if errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds each operator waits after an approval")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    env = bench_env(SCHEMA)
    app = make_app(env)
    started = time.perf_counter()
    customer_id, template_id = seed(app, args.orders, args.operators)
    print(f"seeded {args.orders} orders awaiting review in {time.perf_counter() - started:.1f} s")

    with gunicorn(env, workers=args.workers, threads=args.threads) as base:
        operators = signed_in_operators(base, args.operators)
        print(f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL + Redis, "
              f"{args.operators} operators over HTTP, {args.seconds} s each run after {WARM_UP_SECONDS} s warm-up")
        for label, pause in ((f"paced, {args.pause:g} s pause after each approval", args.pause),
                             ("saturated, no pause (capacity)", 0.0)):
            report(label, *run_operators(base, operators, args.seconds, pause), args.seconds, target=pause > 0)

        if args.no_browser or not Path(CHROMIUM).exists():
            print("review page first paint: skipped (no Chromium at /usr/bin/chromium, or --no-browser)")
            return
        ticket = add_12mp_order(app, customer_id, template_id)
        print("review page of a 12 MP order (4000x3000 JPEG), Chromium 1600x900, ms from navigation start:")
        for label, figures in first_paint(base, ticket):
            print(f"  {label}: first paint {figures['paint']:.0f}, first contentful paint {figures['contentful']:.0f}, "
                  f"images on the canvases {figures['image']:.0f}, full-size mask editable {figures['ready']:.0f}")


if __name__ == "__main__":
    main()
