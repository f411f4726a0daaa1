"""Server-rendered SVG charts of the stats figures (pygal), shown with <img> on the stats page."""
from __future__ import annotations

import pygal
from lxml import etree
from pygal.style import Style

from orders import reports
from orders.codes import Status

STYLE = Style(
    background="white", plot_background="white", foreground="#1d2330", foreground_strong="#1d2330",
    foreground_subtle="#d9dde5", font_family="system-ui, sans-serif",
    colors=("#2457c5", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#5b6475", "#17a589", "#a04000"),
)
SIZE = {"width": 760, "height": 340}
SVG_NS = "{http://www.w3.org/2000/svg}"


def _chart(kind, title: str, **options):
    # js=[]: no script from a CDN; the inline config script pygal always writes is stripped in _svg.
    return kind(title=title, style=STYLE, js=[], legend_at_bottom=True, print_values=False, **SIZE, **options)


def _svg(chart) -> bytes:
    """The chart without any <script>: it is shown as an image and must stand alone."""
    tree = chart.render_tree()
    for script in tree.iter(f"{SVG_NS}script", "script"):
        script.getparent().remove(script)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def orders_by_status(counts: dict[Status, int]) -> bytes:
    chart = _chart(pygal.HorizontalBar, "Orders by status", show_legend=False)
    chart.x_labels = [f"{s.value} {s.wire_name}" for s in counts]
    chart.add("orders", list(counts.values()))
    return _svg(chart)


def throughput(hours: list[reports.HourCount]) -> bytes:
    chart = _chart(pygal.StackedBar, "Review decisions per hour (UTC)", x_label_rotation=45,
                   show_minor_x_labels=False)
    chart.x_labels = [h.hour.strftime("%d %H:00") for h in hours]
    chart.x_labels_major = chart.x_labels[:: max(1, len(hours) // 12)]
    chart.add("approved", [h.approved for h in hours])
    chart.add("rejected", [h.rejected for h in hours])
    return _svg(chart)


def operators(figures: list[reports.OperatorFigures]) -> bytes:
    chart = _chart(pygal.Bar, "Per operator")
    chart.x_labels = [f.name for f in figures]
    chart.add("approvals", [f.approvals for f in figures])
    chart.add("edits", [f.edits for f in figures])
    chart.add("rejects", [f.rejects for f in figures])
    return _svg(chart)


def seconds_per_order(figures: list[reports.OperatorFigures]) -> bytes:
    chart = _chart(pygal.Bar, "Median seconds per order", show_legend=False)
    chart.x_labels = [f.name for f in figures]
    chart.add("seconds", [round(f.median_seconds, 1) if f.median_seconds is not None else None for f in figures])
    return _svg(chart)


def unedited(share: reports.EditShare) -> bytes:
    chart = _chart(pygal.Pie, "Drafts approved without an edit", inner_radius=0.45)
    chart.add("approved as drafted", share.unedited)
    chart.add("edited before approval", share.approved - share.unedited)
    return _svg(chart)


def sla(misses: reports.SlaMisses) -> bytes:
    chart = _chart(pygal.Bar, "SLA misses", show_legend=True)
    chart.add("delivered late", [misses.delivered_late])
    chart.add("open past due", [misses.open_overdue])
    return _svg(chart)
