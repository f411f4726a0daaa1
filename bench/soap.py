"""SOAP vs REST: GetImageStatus and GET /REST.svc/Image/Status/ on the same gunicorn, same concurrency.

Both poll the same order with the same credentials, one after the other in one
run, so the ratio holds even on a busy machine. Target: SOAP >= 0.5x REST req/s.
Usage: .venv/bin/python bench/soap.py [--seconds 20] [--connections 16] [--workers 4]
"""
from __future__ import annotations

import argparse
import json
from urllib.parse import urlencode

import requests
from load import Figures, bench_account, bench_env, gunicorn, wrk

# load put the project root first on sys.path: this is the soap package, not this file.
from soap import NAMESPACE, PATH

EMAIL = "bench@example.com"
WARM_UP_SECONDS = 3


def status_envelope(api_key: str, ticket: str) -> str:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:c="{NAMESPACE}"><soapenv:Body><c:GetImageStatus><c:ContactEmail>{EMAIL}</c:ContactEmail>'
        f"<c:ContactAPIkey>{api_key}</c:ContactAPIkey><c:ImageTicket>{ticket}</c:ImageTicket>"
        "</c:GetImageStatus></soapenv:Body></soapenv:Envelope>"
    )


SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetImageStatus"'}


def place_order(base: str, api_key: str, template_id: str) -> str:
    order = {"ContactEmail": EMAIL, "ContactAPIkey": api_key, "templateId": template_id,
             "ImageURL": "https://images.example/a.jpg"}
    answer = requests.post(f"{base}/REST.svc/Image/", data=json.dumps(order), timeout=5,
                           headers={"Content-Type": "application/json", "Accept": "application/json"}).json()
    return answer["IMAGETICKET"]


def check_soap_answers(url: str, body: str) -> None:
    """A bench of faults would measure the wrong thing: the call must answer noError."""
    response = requests.post(url, data=body, headers=SOAP_HEADERS, timeout=5)
    if response.status_code != 200 or b"<tns:ErrorCode>noError</tns:ErrorCode>" not in response.content:
        raise SystemExit(f"GetImageStatus did not answer noError:\n{response.text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    env = bench_env()
    api_key, template_id = bench_account(env, EMAIL)

    with gunicorn(env, workers=args.workers, threads=args.threads) as base:
        ticket = place_order(base, api_key, template_id)
        rest_url = f"{base}/REST.svc/Image/Status/{ticket}/?" + urlencode({"ContactEmail": EMAIL,
                                                                           "ContactAPIkey": api_key})
        soap_url, soap_body = base + PATH, status_envelope(api_key, ticket)
        check_soap_answers(soap_url, soap_body)

        def rest(seconds: int) -> Figures:
            return wrk("REST GET Image/Status", rest_url, seconds=seconds, connections=args.connections)

        def soap(seconds: int) -> Figures:
            return wrk("SOAP GetImageStatus", soap_url, method="POST", body=soap_body,
                       content_type=SOAP_HEADERS["Content-Type"], accept="text/xml",
                       headers={"SOAPAction": SOAP_HEADERS["SOAPAction"]}, seconds=seconds,
                       connections=args.connections)

        rest(WARM_UP_SECONDS), soap(WARM_UP_SECONDS)  # every worker imports and connects before the clock runs
        rest_figures, soap_figures = rest(args.seconds), soap(args.seconds)

    ratio = soap_figures.requests_per_s / rest_figures.requests_per_s
    print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.connections} connections, "
          f"{args.seconds} s each, PostgreSQL + Redis")
    print(rest_figures.line())
    print(soap_figures.line())
    print(f"SOAP / REST throughput: {ratio:.2f}x (target >= 0.5x); "
          f"p99 {soap_figures.p99_ms:.1f} ms vs {rest_figures.p99_ms:.1f} ms")


if __name__ == "__main__":
    main()
