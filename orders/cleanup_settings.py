"""The cleanup tool's settings: their ranges, and each operator's own values, kept on the server.

One key on the review page runs cleanup with the operator's settings; they are stored on the
operator (operators.cleanup_settings), so another browser or a new sign-in finds them as left.
"""
from __future__ import annotations

from typing import Any

from infrastructure.extensions import db
from orders.checks import finite_number
from orders.codes import ErrorCode
from orders.errors import ServiceError
from orders.models import Operator

# (key, lowest, highest, an operator's starting value): areas in px (25 MP at most), radii in px.
FIELDS = (
    ("fill_holes", 0, 25_000_000, 100),
    ("remove_islands", 0, 25_000_000, 100),
    ("keep_largest", 0, 1000, 0),
    ("smooth", 0, 100, 0),
    ("grow", -100, 100, 0),
)
COUNTED = ("fill_holes", "remove_islands", "keep_largest")  # whole numbers; the radii may be fractions


def checked(body: dict[str, Any]) -> dict[str, int | float]:
    """The cleanup keys given in `body`, each within its range; a key left out stays out."""
    steps: dict[str, int | float] = {}
    for key, low, high, _start in FIELDS:
        if key in body:
            if not finite_number(body[key]) or not low <= body[key] <= high:
                raise ServiceError(ErrorCode.INVALID_PARAMETER, f"{key} must be a number from {low} to {high}")
            steps[key] = int(body[key]) if key in COUNTED else float(body[key])
    return steps


def of(operator: Operator) -> dict[str, int | float]:
    """Every setting: the operator's own where they chose one, the starting value elsewhere."""
    try:
        own = checked(operator.cleanup_settings or {})
    except ServiceError:  # stored under wider ranges than today's: start over rather than fail the page
        own = {}
    return {**{key: start for key, _low, _high, start in FIELDS}, **own}


def remember(operator: Operator, body: dict[str, Any]) -> dict[str, int | float]:
    """Store the settings given in `body` for this operator (the others stay); returns them all."""
    operator.cleanup_settings = {**of(operator), **checked(body)}
    db.session.commit()
    return of(operator)


def ranges() -> list[dict[str, Any]]:
    """For the review page's settings panel: each key with its bounds, in the order cleanup runs them."""
    return [{"key": key, "min": low, "max": high} for key, low, high, _start in FIELDS]
