"""Small builders for inventory unit tests (movements at fixed UTC times, decimals from strings)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from services.inventory.domain.model import Location, Movement, MovementType


def D(text: str | int) -> Decimal:
    return Decimal(str(text))


def at(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def bins(*codes: str, allow_negative: bool = False) -> list[Location]:
    return [Location(code, f"bin {code}", allow_negative=allow_negative) for code in codes]


def receipt(
    sku: str,
    qty: str | int,
    cost: str | int,
    when: datetime,
    *,
    location: str = "B-01",
    lot: str | None = None,
) -> Movement:
    return Movement(MovementType.RECEIPT, sku, D(qty), location, when, lot=lot, unit_cost=D(cost))


def issue(
    sku: str, qty: str | int, when: datetime, *, location: str = "B-01", lot: str | None = None
) -> Movement:
    return Movement(MovementType.ISSUE, sku, D(qty), location, when, lot=lot)


def transfer(
    sku: str, qty: str | int, when: datetime, source: str, destination: str, *, lot: str | None = None
) -> Movement:
    return Movement(MovementType.TRANSFER, sku, D(qty), source, when, to_location=destination, lot=lot)


def adjustment(
    sku: str,
    qty: str | int,
    when: datetime,
    *,
    location: str = "B-01",
    reason: str = "found",
    lot: str | None = None,
) -> Movement:
    return Movement(MovementType.ADJUSTMENT, sku, D(qty), location, when, lot=lot, reason=reason)


def scrap(
    sku: str,
    qty: str | int,
    when: datetime,
    *,
    location: str = "B-01",
    reason: str = "damaged",
    lot: str | None = None,
) -> Movement:
    return Movement(MovementType.SCRAP, sku, D(qty), location, when, lot=lot, reason=reason)
