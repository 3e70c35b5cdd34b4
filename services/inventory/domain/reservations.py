"""Reservations: stock promised to an order, chosen across lots and locations.

Rules:

- Only stock in *nettable* locations with a positive available quantity can be reserved, and never
  more than is available. Lots expired on the reservation date are excluded under both policies.
- FIFO takes the lots received first; FEFO takes the lots that expire first (lots without an expiry
  come after every dated lot, then by receipt). Stock without a lot, or of a lot with no ``Lot``
  record, has no dates and comes last. Ties are broken by lot code, then by location code, so the
  choice is deterministic.
- ``reserve`` is all-or-nothing unless ``allow_partial``: a shortage raises ``InsufficientStock``
  with the quantity missing and changes nothing.
- ``release`` gives back the stock chosen last first, so the oldest / soonest-expiring lots stay
  promised; ``consume`` issues the stock chosen first. Both default to the whole reservation.
- Consuming a reservation books issue movements; they are checked against the stock on hand (the
  stock is already promised to this order), so a reservation can be consumed even when a scrap has
  since left other reservations short.
- A pick list groups an order's reservations by (bin, sku, lot), in bin-code order (the walking
  order of the store), then sku, then lot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.inventory.domain.ledger import StockPosition
from services.inventory.domain.model import (
    ZERO,
    InsufficientStock,
    InvalidMovement,
    Lot,
    Movement,
    MovementType,
    ReservationError,
    StockKey,
)


class AllocationPolicy(StrEnum):
    FIFO = "fifo"
    FEFO = "fefo"


@dataclass(slots=True)
class ReservationLine:
    """``qty`` of one (sku, location, lot) held for the order."""

    key: StockKey
    qty: Decimal


@dataclass(slots=True)
class Reservation:
    """Stock of one sku promised to one order, as lines in the order they were chosen."""

    id: str
    order: str
    sku: str
    lines: list[ReservationLine] = field(default_factory=list)

    @property
    def qty(self) -> Decimal:
        """The quantity still held."""
        return sum((line.qty for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class PickLine:
    """Pick ``qty`` of ``sku`` from lot ``lot`` in ``bin``."""

    sku: str
    lot: str | None
    bin: str
    qty: Decimal


def _missing_last(value: date | datetime | None) -> tuple[int, float]:
    if value is None:
        return (1, 0.0)
    if isinstance(value, datetime):
        return (0, value.timestamp())
    return (0, float(value.toordinal()))


def allocation_order(
    candidates: Iterable[StockKey], lots: dict[str, Lot], policy: AllocationPolicy
) -> list[StockKey]:
    """Order stock keys by the policy (FIFO by receipt, FEFO by expiry; see module rules)."""

    def sort_key(key: StockKey) -> tuple[object, ...]:
        lot = lots.get(key.lot) if key.lot is not None else None
        received = _missing_last(lot.received_at if lot else None)
        lot_code = key.lot or ""
        if policy is AllocationPolicy.FEFO:
            return (_missing_last(lot.expiry if lot else None), received, lot_code, key.location)
        return (received, lot_code, key.location)

    return sorted(candidates, key=sort_key)


def reserve(
    position: StockPosition,
    *,
    reservation_id: str,
    order: str,
    sku: str,
    qty: Decimal,
    lots: Iterable[Lot],
    on: date,
    policy: AllocationPolicy = AllocationPolicy.FEFO,
    allow_partial: bool = False,
) -> Reservation:
    """Reserve ``qty`` of ``sku`` for ``order`` across lots and locations, by ``policy``.

    Never more than is available; a shortage raises ``InsufficientStock`` (nothing reserved)
    unless ``allow_partial``, which reserves what there is. Expired lots (on ``on``) and
    non-nettable locations are skipped.
    """
    if qty <= 0:
        raise InvalidMovement("qty", "a reservation needs a quantity greater than zero")
    lots_by_code = {lot.code: lot for lot in lots if lot.sku == sku}
    candidates = []
    for balance in position.balances(sku=sku):
        key = balance.key
        lot = lots_by_code.get(key.lot) if key.lot is not None else None
        location = position.locations.get(key.location)
        if balance.available <= 0 or location is None or not location.nettable:
            continue
        if lot is not None and lot.is_expired(on):
            continue
        candidates.append(key)
    plan: list[ReservationLine] = []
    remaining = qty
    for key in allocation_order(candidates, lots_by_code, policy):
        if remaining == 0:
            break
        take = min(remaining, position.available(key))
        plan.append(ReservationLine(key, take))
        remaining -= take
    if remaining > 0 and not allow_partial:
        raise InsufficientStock(sku, None, None, qty, qty - remaining)
    for line in plan:
        position.reserve(line.key, line.qty)
    return Reservation(reservation_id, order, sku, plan)


def release(
    position: StockPosition, reservation: Reservation, qty: Decimal | None = None
) -> list[ReservationLine]:
    """Give back ``qty`` (default: all) of the reservation, last-chosen stock first; returns what
    was released per key."""
    to_release = reservation.qty if qty is None else qty
    if to_release < 0 or to_release > reservation.qty:
        raise ReservationError(
            f"cannot release {to_release}: reservation {reservation.id} holds {reservation.qty}"
        )
    released: list[ReservationLine] = []
    for line in reversed(reservation.lines):
        if to_release == 0:
            break
        take = min(to_release, line.qty)
        position.unreserve(line.key, take)
        line.qty -= take
        to_release -= take
        released.append(ReservationLine(line.key, take))
    reservation.lines = [line for line in reservation.lines if line.qty > 0]
    return released


def consume(
    position: StockPosition,
    reservation: Reservation,
    *,
    at: datetime,
    qty: Decimal | None = None,
    reference: str | None = None,
) -> list[Movement]:
    """Turn ``qty`` (default: all) of the reservation into issue movements, first-chosen stock first.

    Every issue is checked before any is recorded; the issues are applied to the position and
    returned for the ledger. The reservation shrinks by what was consumed.
    """
    to_consume = reservation.qty if qty is None else qty
    if to_consume <= 0 or to_consume > reservation.qty:
        raise ReservationError(
            f"cannot consume {to_consume}: reservation {reservation.id} holds {reservation.qty}"
        )
    issues: list[Movement] = []
    for line in reservation.lines:
        if to_consume == 0:
            break
        take = min(to_consume, line.qty)
        issues.append(
            Movement(
                type=MovementType.ISSUE,
                sku=line.key.sku,
                qty=take,
                location=line.key.location,
                lot=line.key.lot,
                at=at,
                reference=reference if reference is not None else reservation.order,
            )
        )
        to_consume -= take
    for issue in issues:
        position.check_reserved_issue(issue)
    for issue, line in zip(issues, reservation.lines, strict=False):
        position.apply_reserved_issue(issue)
        line.qty -= issue.qty
    reservation.lines = [line for line in reservation.lines if line.qty > 0]
    return issues


def pick_list(reservations: Iterable[Reservation], order: str) -> list[PickLine]:
    """The pick list of ``order``: quantities per (bin, sku, lot) from its reservations, in bin order."""
    totals: dict[tuple[str, str, str | None], Decimal] = {}
    for reservation in reservations:
        if reservation.order != order:
            continue
        for line in reservation.lines:
            group = (line.key.location, line.key.sku, line.key.lot)
            totals[group] = totals.get(group, ZERO) + line.qty
    return [
        PickLine(sku=sku, lot=lot, bin=bin_code, qty=q)
        for (bin_code, sku, lot), q in sorted(totals.items(), key=lambda i: (i[0][0], i[0][1], i[0][2] or ""))
        if q > 0
    ]
