"""The customer callback: what is sent, how it is signed, and the log of attempts.

The body is the reference API's form fields (imageTicket, ProcessedImageURL)
plus StatusId, StatusName and the customer's CustomerImageId, signed the Standard Webhooks way with the
customer's secret. Success is any 2xx within CALLBACK_TIMEOUT_SECONDS (15 s
by default: the Standard Webhooks and Svix figure); a 3xx is a
failure and is not followed; 410 Gone stops the retries. The URL goes through
the same address rules as the image fetcher.
"""
from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import requests
from flask import current_app
from sqlalchemy import select
from standardwebhooks import Webhook

from infrastructure import fetcher, metrics
from infrastructure.extensions import db
from infrastructure.queues import enqueue_callback, enqueue_soon
from orders.codes import CALLBACK_STATE_WORDS, CallbackState, ErrorCode, Status
from orders.errors import ProcessingError, ServiceError
from orders.finals import final_image_url
from orders.lookups import order_by_ticket
from orders.models import CallbackAttempt, Customer, Order, utcnow


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # worth trying again later
    detail: str
    word: str  # for the metrics: delivered, failed (worth a retry), gone (410) or blocked (address refused)


def payload(order: Order) -> dict[str, str]:
    status = Status(order.status)
    return {
        "imageTicket": order.ticket,
        "ProcessedImageURL": final_image_url(order),
        "StatusId": str(int(status)),
        "StatusName": status.wire_name,
        "CustomerImageId": order.customer_image_id or "",
    }


# After a rotation, callbacks carry a signature by the old secret too for this long (Standard
# Webhooks allows several, space-separated), so a receiver can switch secrets without losing one.
ROTATION_OVERLAP = timedelta(hours=24)


def signed_headers(secrets: list[str], message_id: str, body: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(message_id, now, body) for secret in secrets),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def signing_secrets(customer_id: int) -> list[str]:
    """The customer's secret, and within ROTATION_OVERLAP of a rotation the previous one too."""
    current, previous, rotated_at = db.session.execute(
        select(Customer.webhook_secret, Customer.previous_webhook_secret, Customer.webhook_secret_rotated_at)
        .where(Customer.id == customer_id)).one()
    recent = previous and rotated_at and utcnow() - rotated_at < ROTATION_OVERLAP
    return [current, previous] if recent else [current]


def attempt(order_id: int) -> Outcome:
    """POST the callback once and log the attempt."""
    order = db.session.get(Order, order_id)
    if order is None or not order.callback_url or not Status(order.status).is_final:
        return Outcome(True, False, "nothing to send", "nothing")
    body = urlencode(payload(order))
    headers = signed_headers(signing_secrets(order.customer_id), message_id(order), body)
    started = time.perf_counter()
    http_status, error, detail = _post(order.callback_url, body, headers)
    outcome = _judge(http_status, error)
    db.session.add(CallbackAttempt(order_id=order.id, url=order.callback_url, status_id=order.status,
                                   http_status=http_status, error=error, error_detail=detail, ok=outcome.ok,
                                   duration_ms=(time.perf_counter() - started) * 1000))
    order.callback_state = (CallbackState.DELIVERED if outcome.ok
                            else CallbackState.GONE if http_status == 410 else CallbackState.PENDING)
    db.session.commit()
    metrics.callback_attempted(outcome.word)
    return outcome


def message_id(order: Order) -> str:
    """The webhook-id: a retry is the same message (receivers de-duplicate on it), a redo's delivery a new one."""
    base = f"msg_{order.ticket}_{order.status}"
    return f"{base}_redo{order.redo_count}" if order.redo_count else base


def give_up(order_id: int) -> None:
    """After the last retry: the order keeps its status, the callback is marked failed."""
    order = db.session.get(Order, order_id)
    if order is not None and order.callback_state == CallbackState.PENDING:
        order.callback_state = CallbackState.FAILED
        db.session.commit()


def attempts_of(ticket: str) -> list[CallbackAttempt]:
    order = order_by_ticket(ticket)
    return list(db.session.scalars(select(CallbackAttempt).where(CallbackAttempt.order_id == order.id)
                                   .order_by(CallbackAttempt.id)))


def state_of(ticket: str) -> str:
    """Where an order's callback stands, in words for operators."""
    order = order_by_ticket(ticket)
    if not order.callback_url:
        return "none (the order has no callback URL)"
    return CALLBACK_STATE_WORDS[order.callback_state] if order.callback_state else "not sent yet (order not finished)"


def resend(ticket: str) -> None:
    """Send the callback of a finished order again (operator's button, CLI)."""
    order = order_by_ticket(ticket)
    if not order.callback_url:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "this order has no callback URL")
    if not Status(order.status).is_final:
        raise ServiceError(ErrorCode.INVALID_PARAMETER, "the order is not finished yet; its callback will follow")
    order.callback_state = CallbackState.PENDING
    db.session.commit()
    enqueue_soon(enqueue_callback, order.id)


def queue_for(order_id: int) -> None:
    """Queue the callback of an order that just became final, if it has a callback URL."""
    order = db.session.get(Order, order_id)
    if order is None or not order.callback_url:
        return
    order.callback_state = CallbackState.PENDING
    db.session.commit()
    enqueue_soon(enqueue_callback, order_id)


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int | None, str | None, str | None]:
    """(HTTP status, short reason, detail): the status when an answer came, else why not."""
    allow_private = current_app.config["FETCH_ALLOW_PRIVATE_NETWORKS"]
    timeout = current_app.config["CALLBACK_TIMEOUT_SECONDS"]
    try:
        fetcher.vet_url(url, allow_private)
        with fetcher.make_session(allow_private) as session:
            response = session.post(url, data=body.encode(), headers=headers, timeout=(CONNECT_TIMEOUT, timeout),
                                    allow_redirects=False, stream=True)
            response.close()  # the answer's body is of no interest, and may be large
            return response.status_code, None, None
    except ProcessingError as exc:
        return None, f"{exc.reason.value}: {exc.message}", None
    except requests.RequestException as exc:
        return None, failure_reason(exc, timeout), f"{type(exc).__name__}: {exc}"[:2000]


CONNECT_TIMEOUT = 5  # seconds to connect to the receiver


def failure_reason(exc: requests.RequestException, read_timeout: int) -> str:
    """A few words on why a POST got no answer; the exception's own text is long and varies by version."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {CONNECT_TIMEOUT} s"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {read_timeout} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    cause = _root_os_error(exc)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, http.client.RemoteDisconnected):  # a ConnectionResetError too: first
        return "connection closed without an answer"
    if isinstance(cause, ConnectionResetError):
        return "connection reset"
    if isinstance(cause, socket.gaierror):
        return "host name not found"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _root_os_error(exc: BaseException) -> BaseException | None:
    """The OSError under requests' and urllib3's wrappers (args, reason, __cause__, __context__)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and not isinstance(item, requests.RequestException):
            return item
        todo.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return None


def _judge(http_status: int | None, error: str | None) -> Outcome:
    if http_status is not None and 200 <= http_status < 300:
        return Outcome(True, False, f"HTTP {http_status}", "delivered")
    if http_status == 410:
        return Outcome(False, False, "HTTP 410 Gone: the receiver asked us to stop", "gone")
    if error and error.startswith("blockedAddress"):
        return Outcome(False, False, error, "blocked")
    return Outcome(False, True, error or f"HTTP {http_status}", "failed")
