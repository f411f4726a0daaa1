"""One page of a long list, for every list a person or a program pages through."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from infrastructure.extensions import db

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: Sequence[Item]
    number: int  # from 1
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def count_of(query: Select) -> int:
    """How many rows `query` matches, whatever its order."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def page_of(query: Select, number: int, per_page: int, *, rows: bool = False,
            total: Callable[[Select], int] = count_of) -> Page[Any]:
    """Page `number` of `query` (already ordered): its items (scalars, or whole rows) and the total,
    as `total` counts it."""
    number = max(1, number)
    counted = total(query)
    limited = query.limit(per_page).offset((number - 1) * per_page)
    items = list(db.session.execute(limited)) if rows else list(db.session.scalars(limited))
    return Page(items, number, per_page, counted)
