"""REST API throughput: POST Image and GET Status under gunicorn on PostgreSQL + Redis.

16 concurrent clients for 20 s each (wrk). Target on a 2-core machine:
POST >= 300 req/s, Status >= 800 req/s, p99 <= 50 ms.
Usage: .venv/bin/python bench/api.py [--seconds 20] [--workers 4]
"""
from __future__ import annotations

import argparse
import json

import requests
from load import bench_account, bench_env, gunicorn, wrk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

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

    print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.connections} connections, "
          f"{args.seconds} s each, PostgreSQL + Redis")
    print(post.line())
    print(status.line())


if __name__ == "__main__":
    main()
