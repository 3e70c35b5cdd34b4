"""The stock position: balances per (sku, location, lot), checked against the movement ledger.

Rules:

- A movement changes balances as follows: a receipt adds ``qty`` at ``location``; an issue and a
  scrap remove ``qty``; an adjustment adds its signed ``qty``; a transfer is an issue at
  ``location`` plus a receipt of the same sku and lot at ``to_location``.
- ``available = on_hand - reserved``. An issue or a transfer may only take what is *available*
  (reserved stock is promised to an order; it leaves through ``reservations.consume``). A scrap or
  a negative adjustment records a physical fact, so it may take reserved stock, but never more
  than is *on hand*; the reservation then exceeds the stock and ``available`` turns negative,
  which is how the shortage is shown.
- A location with ``allow_negative`` skips these checks: its on-hand may go below zero.
- Both locations of a movement must be known to the position.
- History is a fact: rebuilding a position from the ledger (``StockPosition.from_ledger``,
  ``on_hand_as_of``) replays movements without the checks, in the order of their ``at``
  timestamps, movements with equal timestamps in ledger order.
- ``as_of`` is inclusive. A ``datetime`` keeps movements with ``at <= as_of``; a ``date`` keeps
  the movements of that day and before, the day being read in each movement's own UTC offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.inventory.domain.model import (
    ZERO,
    InsufficientStock,
    InvalidMovement,
    Location,
    Movement,
    MovementType,
    StockKey,
)


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """The on-hand quantity of ``key`` changes by ``delta`` (signed)."""

    key: StockKey
    delta: Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """The stock of one key: on hand, reserved for orders, and what is left to promise."""

    key: StockKey
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        """``on_hand - reserved`` (negative when reservations exceed the stock)."""
        return self.on_hand - self.reserved


def happened_by(at: datetime, as_of: date | datetime | None) -> bool:
    """True when a movement at ``at`` belongs to the ledger as of ``as_of`` (inclusive, see module)."""
    if as_of is None:
        return True
    if isinstance(as_of, datetime):
        if as_of.utcoffset() is None:
            raise ValueError("as_of needs a UTC offset when it is a timestamp")
        return at <= as_of
    return at.date() <= as_of


def replay_order(movements: Iterable[Movement], as_of: date | datetime | None = None) -> list[Movement]:
    """The movements up to ``as_of``, sorted by timestamp; ties keep their ledger order."""
    return sorted((m for m in movements if happened_by(m.at, as_of)), key=lambda m: m.at)


def balance_changes(movement: Movement) -> tuple[BalanceChange, ...]:
    """The on-hand changes a movement makes, without any check (transfer = issue + receipt)."""
    key = movement.key
    match movement.type:
        case MovementType.RECEIPT | MovementType.ADJUSTMENT:
            return (BalanceChange(key, movement.qty),)
        case MovementType.ISSUE | MovementType.SCRAP:
            return (BalanceChange(key, -movement.qty),)
        case MovementType.TRANSFER:
            assert movement.to_location is not None  # guaranteed by Movement
            destination = StockKey(movement.sku, movement.to_location, movement.lot)
            return (BalanceChange(key, -movement.qty), BalanceChange(destination, movement.qty))
    raise InvalidMovement("type", f"unknown movement type {movement.type!r}")  # pragma: no cover


def on_hand_as_of(
    movements: Iterable[Movement],
    as_of: date | datetime | None = None,
    *,
    sku: str | None = None,
    location: str | None = None,
) -> dict[StockKey, Decimal]:
    """On-hand quantity per key after replaying the ledger up to ``as_of``; zero balances omitted."""
    totals: dict[StockKey, Decimal] = {}
    for movement in replay_order(movements, as_of):
        for change in balance_changes(movement):
            totals[change.key] = totals.get(change.key, ZERO) + change.delta
    return {
        key: qty
        for key, qty in sorted(totals.items(), key=lambda item: _sort_key(item[0]))
        if qty != 0 and (sku is None or key.sku == sku) and (location is None or key.location == location)
    }


def _sort_key(key: StockKey) -> tuple[str, str, str]:
    return (key.sku, key.location, key.lot or "")


class StockPosition:
    """The stock aggregate: on-hand and reserved quantities per (sku, location, lot).

    ``check`` validates a movement and returns the balance changes it would make; ``apply`` does
    the same and records them. Reservation totals are changed through ``reserve`` / ``unreserve``
    (see ``reservations``), which never reserve more than is available.
    """

    def __init__(self, locations: Iterable[Location]) -> None:
        self.locations: dict[str, Location] = {loc.code: loc for loc in locations}
        self._on_hand: dict[StockKey, Decimal] = {}
        self._reserved: dict[StockKey, Decimal] = {}

    @classmethod
    def from_ledger(
        cls,
        locations: Iterable[Location],
        movements: Iterable[Movement],
        as_of: date | datetime | None = None,
    ) -> StockPosition:
        """The position after replaying the ledger up to ``as_of``, without checks (history is fact)."""
        position = cls(locations)
        for key, qty in on_hand_as_of(movements, as_of).items():
            position._on_hand[key] = qty
        return position

    # ---------------------------------------------------------------------------------- queries

    def on_hand(self, key: StockKey) -> Decimal:
        return self._on_hand.get(key, ZERO)

    def reserved(self, key: StockKey) -> Decimal:
        return self._reserved.get(key, ZERO)

    def available(self, key: StockKey) -> Decimal:
        return self.on_hand(key) - self.reserved(key)

    def balance(self, key: StockKey) -> Balance:
        return Balance(key, self.on_hand(key), self.reserved(key))

    def balances(self, *, sku: str | None = None, location: str | None = None) -> list[Balance]:
        """Every key with stock or reservations, filtered by sku / location, sorted by key."""
        keys = {k for k, q in self._on_hand.items() if q != 0} | {
            k for k, q in self._reserved.items() if q != 0
        }
        return [
            self.balance(key)
            for key in sorted(keys, key=_sort_key)
            if (sku is None or key.sku == sku) and (location is None or key.location == location)
        ]

    # ---------------------------------------------------------------------------------- commands

    def check(self, movement: Movement) -> tuple[BalanceChange, ...]:
        """Validate ``movement`` against the stock and return its balance changes (nothing recorded).

        Raises ``InvalidMovement`` for an unknown location and ``InsufficientStock`` when a
        decrease would take more than allowed (see the module rules).
        """
        self._location(movement.location, "location")
        if movement.to_location is not None:
            self._location(movement.to_location, "to_location")
        changes = balance_changes(movement)
        for change in changes:
            if change.delta < 0:
                self._check_decrease(change, movement.type)
        return changes

    def apply(self, movement: Movement) -> tuple[BalanceChange, ...]:
        """Check ``movement`` and record its balance changes; returns them."""
        changes = self.check(movement)
        for change in changes:
            self._on_hand[change.key] = self.on_hand(change.key) + change.delta
        return changes

    def check_reserved_issue(self, movement: Movement) -> tuple[BalanceChange, ...]:
        """Validate an issue of stock reserved for it (nothing recorded).

        It needs ``qty`` reserved on its key and ``qty`` on hand there (unless the location allows
        negative stock): reserved stock leaves against on-hand, not against what is available.
        """
        if movement.type is not MovementType.ISSUE:
            raise InvalidMovement("type", "only an issue can consume a reservation")
        location = self._location(movement.location, "location")
        key = movement.key
        if movement.qty > self.reserved(key):
            raise InvalidMovement(
                "qty", f"only {self.reserved(key)} of {key.sku} is reserved at {key.location}"
            )
        if not location.allow_negative and movement.qty > self.on_hand(key):
            raise InsufficientStock(
                key.sku, key.location, key.lot, movement.qty, max(self.on_hand(key), ZERO)
            )
        return balance_changes(movement)

    def apply_reserved_issue(self, movement: Movement) -> tuple[BalanceChange, ...]:
        """Check and record an issue of reserved stock: on hand and reserved both drop by ``qty``."""
        changes = self.check_reserved_issue(movement)
        key = movement.key
        self._reserved[key] = self.reserved(key) - movement.qty
        self._on_hand[key] = self.on_hand(key) - movement.qty
        return changes

    def reserve(self, key: StockKey, qty: Decimal) -> None:
        """Reserve ``qty`` of ``key``: never more than is available, only in a nettable location."""
        if qty <= 0:
            raise InvalidMovement("qty", "a reservation needs a quantity greater than zero")
        if not self._location(key.location, "location").nettable:
            raise InvalidMovement("location", f"{key.location} is not nettable: its stock cannot be reserved")
        available = self.available(key)
        if qty > available:
            raise InsufficientStock(key.sku, key.location, key.lot, qty, max(available, ZERO))
        self._reserved[key] = self.reserved(key) + qty

    def unreserve(self, key: StockKey, qty: Decimal) -> None:
        """Give back ``qty`` reserved on ``key`` (never more than is reserved there)."""
        if qty <= 0:
            raise InvalidMovement("qty", "a release needs a quantity greater than zero")
        reserved = self.reserved(key)
        if qty > reserved:
            raise InvalidMovement("qty", f"only {reserved} of {key.sku} is reserved at {key.location}")
        self._reserved[key] = reserved - qty

    # ---------------------------------------------------------------------------------- internals

    def _location(self, code: str, field: str) -> Location:
        try:
            return self.locations[code]
        except KeyError:
            raise InvalidMovement(field, f"unknown location {code!r}") from None

    def _check_decrease(self, change: BalanceChange, kind: MovementType) -> None:
        key = change.key
        if self.locations[key.location].allow_negative:
            return
        takes_reserved = kind in (MovementType.SCRAP, MovementType.ADJUSTMENT)
        limit = self.on_hand(key) if takes_reserved else self.available(key)
        requested = -change.delta
        if requested > limit:
            raise InsufficientStock(key.sku, key.location, key.lot, requested, max(limit, ZERO))
