"""The stats page: figures from orders.reports as tables and server-rendered SVG charts."""
from __future__ import annotations

import time

from flask import Response, abort, current_app, render_template, request

from dashboard.admin import bp
from infrastructure import worker_registry
from orders import reports

WINDOWS = {24: "last 24 hours", 24 * 7: "last 7 days", 24 * 30: "last 30 days"}


def _charts():
    # Here, not at the top: pygal costs every process that creates the app ~0.1 s at start,
    # and only the stats page draws charts.
    from dashboard import report_charts

    return report_charts


# The charts are standalone SVG documents: no script at all, their own inline styles only.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _operator_figures(hours: int) -> list[reports.OperatorFigures]:
    """The page and its two operator charts are three requests: the figures (the costly query)
    are made once a minute per window and process, as the charts are cached for a minute anyway."""
    cache = current_app.extensions.setdefault("stats_operator_figures", {})
    key = (hours, int(time.time() // FIGURES_SECONDS))
    if key not in cache:
        cache.clear()  # older minutes are of no more use
        cache[key] = reports.operator_figures(reports.window_start(hours))
    return cache[key]


FIGURES_SECONDS = 60


def _hours() -> int:
    hours = request.args.get("hours", 24, type=int)
    return hours if hours in WINDOWS else 24


@bp.get("/stats")
def stats_page() -> str:
    hours = _hours()
    since = reports.window_start(hours)
    return render_template(
        "dashboard/admin/stats.html",
        hours=hours,
        windows=WINDOWS,
        by_status=reports.orders_by_status(),
        operators=_operator_figures(hours),
        edit_share=reports.approved_without_edit(since),
        sla=reports.sla_misses(since),
        charts=list(CHARTS),
        workers=_workers(),
    )


def _workers() -> list[worker_registry.WorkerInfo] | None:
    """Live workers with their queues and, for segment workers, model and providers; None without Redis."""
    try:
        return worker_registry.live_workers()
    except Exception:  # noqa: BLE001 - the stats page must not fail because Redis does
        return None


CHARTS = {
    "status": lambda since: _charts().orders_by_status(reports.orders_by_status()),
    "throughput": lambda since: _charts().throughput(reports.throughput_per_hour(since)),
    "operators": lambda since: _charts().operators(_operator_figures(_hours())),
    "seconds": lambda since: _charts().seconds_per_order(_operator_figures(_hours())),
    "unedited": lambda since: _charts().unedited(reports.approved_without_edit(since)),
    "sla": lambda since: _charts().sla(reports.sla_misses(since)),
}


@bp.get("/stats/<name>.svg")
def chart(name: str) -> Response:
    draw = CHARTS.get(name)
    if draw is None:
        abort(404)
    response = Response(draw(reports.window_start(_hours())), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
