"""REST API throughput: POST Image, GET Status and GET Images under gunicorn on PostgreSQL + Redis.

16 concurrent clients for 20 s each (wrk). Target on a 2-core machine:
POST >= 300 req/s, Status >= 800 req/s, p99 <= 50 ms; GET Images (the first page of 100 of a
customer with 100,000 orders, among 1,000,000 in the table) p99 <= 50 ms.
Usage: .venv/bin/python bench/api.py [--seconds 20] [--workers 4] [--list-orders 100000] [--other-orders 900000]
"""
from __future__ import annotations

import argparse
import json

import requests
from load import PG_URL, SCHEMA, bench_account, bench_env, drop_schema, gunicorn, wrk
from sqlalchemy import create_engine, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--list-orders", type=int, default=100_000, help="orders of the customer GET Images lists")
    parser.add_argument("--other-orders", type=int, default=900_000, help="orders of another customer")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        drop_schema()


def run(args: argparse.Namespace) -> None:
    env = bench_env()
    api_key, template_id = bench_account(env, "bench@example.com")
    creds = {"ContactEmail": "bench@example.com", "ContactAPIkey": api_key}
    order = json.dumps({**creds, "templateId": template_id, "ImageURL": "https://images.example/a.jpg"})

    with gunicorn(env, workers=args.workers, threads=args.threads) as base:
        ticket = requests.post(f"{base}/REST.svc/Image/", data=order, timeout=5,
                               headers={"Content-Type": "application/json",
                                        "Accept": "application/json"}).json()["IMAGETICKET"]
        status_url = f"{base}/REST.svc/Image/Status/{ticket}/?ContactEmail=bench%40example.com&ContactAPIkey={api_key}"
        post = wrk("POST /REST.svc/Image/", f"{base}/REST.svc/Image/", method="POST", body=order,
                   seconds=args.seconds, connections=args.connections)
        status = wrk("GET /REST.svc/Image/Status/", status_url, seconds=args.seconds, connections=args.connections)
        lister_key, _ = bench_account(env, "lister@example.com")
        other_key, _ = bench_account(env, "other@example.com")
        seeded = seed_orders({"lister@example.com": args.list_orders, "other@example.com": args.other_orders},
                             int(template_id))
        list_url = f"{base}/REST.svc/Images/?ContactEmail=lister%40example.com&ContactAPIkey={lister_key}"
        first = requests.get(list_url, timeout=10, headers={"Accept": "application/json"}).json()
        assert first["TOTAL"] == args.list_orders and len(first["IMAGES"]) == 100, first.get("message")
        listing = wrk("GET /REST.svc/Images/", list_url, seconds=args.seconds, connections=args.connections)

    print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.connections} connections, "
          f"{args.seconds} s each, PostgreSQL + Redis")
    print(post.line())
    print(status.line())
    print(listing.line() + f"   (page 1 of {args.list_orders} orders; {seeded} in the table)")


def seed_orders(counts: dict[str, int], template_id: int) -> int:
    """Orders for the given customers, one a minute back in time, written by PostgreSQL itself
    (generate_series) because a million through the API would take the bench an hour."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT",
                           connect_args={"options": f"-csearch_path={SCHEMA}"})
    with engine.connect() as conn:
        for email, count in counts.items():
            conn.execute(text(
                "INSERT INTO orders (ticket, customer_id, template_id, price_amount, currency_id, image_url, "
                "delivery_hours, due_at, status, created_at, updated_at, is_test, redo_count) "
                "SELECT gen_random_uuid()::text, c.id, :template, 1, 1, 'https://images.example/' || n || '.jpg', "
                "24, now() - n * interval '1 minute' + interval '24 hours', "
                "(ARRAY[10, 40, 80, 80, 80, 90])[1 + n % 6], now() - n * interval '1 minute', "
                "now() - n * interval '1 minute', false, 0 "
                "FROM customers c, generate_series(1, :count) AS n WHERE c.email = :email"),
                {"template": template_id, "count": count, "email": email})
        conn.execute(text("VACUUM ANALYZE orders"))
        total = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    engine.dispose()
    return total


if __name__ == "__main__":
    main()
