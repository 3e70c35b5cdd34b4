"""Inventory domain model: locations, lots, the movement ledger entry and the domain errors.

Rules written here (the handbook is silent on them):

- Quantities and money are ``decimal.Decimal``. Quantities are never rounded by this package.
  Unit costs are kept to 6 decimal places (``ROUND_HALF_UP``); money amounts that are *booked*
  (a receipt's value, the cost of an issue, a variance, a stock value) are rounded to the cent
  (``ROUND_HALF_UP``), once, at the moment they are booked.
- A ``Movement`` is an append-only ledger entry. Its shape is checked when it is built, so an
  ill-formed movement cannot exist: receipt / issue / transfer / scrap carry a strictly positive
  quantity; an adjustment carries a signed, non-zero quantity; a receipt needs ``unit_cost >= 0``;
  a transfer needs a ``to_location`` different from ``location``; adjustments and scraps need a
  non-blank ``reason``; only a transfer has a ``to_location``; ``at`` carries a UTC offset.
- A lot is usable up to and including its expiry date; it is expired from the next day on.
- Stock is kept per ``(sku, location, lot)``; ``lot`` is the lot code (``None`` for stock that is
  not lot-controlled). A lot code identifies a lot within one sku.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

CENT = Decimal("0.01")
UNIT_COST_QUANTUM = Decimal("0.000001")
ZERO = Decimal(0)


def to_cents(amount: Decimal) -> Decimal:
    """Round a money amount to the cent, half up (the rounding of a booked amount)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_unit_cost(cost: Decimal) -> Decimal:
    """Round a unit cost to 6 decimal places, half up."""
    return cost.quantize(UNIT_COST_QUANTUM, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------- errors


class InventoryError(Exception):
    """Base class of every inventory domain error."""


class InvalidField(InventoryError):
    """A value given to the domain is unacceptable; ``field`` names it (for a 422's ``errors`` list)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidMovement(InvalidField):
    """A movement (or a request built on one: a reservation, a count) is ill-formed."""


class InvalidLocation(InvalidField):
    """A location definition is ill-formed."""


class InsufficientStock(InventoryError):
    """Not enough stock to do what was asked; says how much was asked, found and is missing."""

    def __init__(
        self, sku: str, location: str | None, lot: str | None, requested: Decimal, available: Decimal
    ) -> None:
        self.sku = sku
        self.location = location
        self.lot = lot
        self.requested = requested
        self.available = available
        self.missing = requested - available
        where = f" at {location}" if location is not None else ""
        lot_text = f" lot {lot}" if lot is not None else ""
        super().__init__(
            f"insufficient stock of {sku}{lot_text}{where}: requested {requested}, "
            f"available {available}, missing {self.missing}"
        )


class ReservationError(InventoryError):
    """A reservation cannot be released or consumed as asked (e.g. more than it holds)."""


class ValuationError(InventoryError):
    """Stock cannot be valued as asked (e.g. no standard cost for an item under standard costing)."""


# --------------------------------------------------------------------------------------------- model


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    ZONE = "zone"
    BIN = "bin"


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock. ``nettable`` stock counts for planning and can be reserved;
    ``allow_negative`` lets issues take the on-hand quantity below zero there."""

    code: str
    name: str
    kind: LocationKind = LocationKind.BIN
    parent: str | None = None
    nettable: bool = True
    allow_negative: bool = False

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InvalidLocation("code", "a location needs a code")
        if self.parent == self.code:
            raise InvalidLocation("parent", "a location cannot be its own parent")


@dataclass(frozen=True, slots=True)
class Lot:
    """A lot of one sku. Usable up to and including ``expiry``; ``None`` never expires."""

    sku: str
    code: str
    received_at: datetime
    expiry: date | None = None

    def is_expired(self, on: date) -> bool:
        """True from the day after the expiry date on."""
        return self.expiry is not None and on > self.expiry


class MovementType(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"


class StockKey(NamedTuple):
    """The grain of stock: one sku, in one location, of one lot (``None``: not lot-controlled)."""

    sku: str
    location: str
    lot: str | None


@dataclass(frozen=True, slots=True)
class Movement:
    """One append-only ledger entry. Its shape is validated on construction (see module rules)."""

    type: MovementType
    sku: str
    qty: Decimal
    location: str
    at: datetime
    to_location: str | None = None
    lot: str | None = None
    unit_cost: Decimal | None = None
    reason: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if not self.sku.strip():
            raise InvalidMovement("sku", "a movement needs a sku")
        if not self.location.strip():
            raise InvalidMovement("location", "a movement needs a location")
        if not isinstance(self.qty, Decimal) or not self.qty.is_finite():
            raise InvalidMovement("qty", "the quantity must be a finite Decimal")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidMovement("at", "the timestamp needs a UTC offset")
        if self.type is MovementType.ADJUSTMENT:
            if self.qty == 0:
                raise InvalidMovement("qty", "an adjustment must change the quantity")
        elif self.qty <= 0:
            raise InvalidMovement("qty", f"a {self.type.value} needs a quantity greater than zero")
        if self.type is MovementType.TRANSFER:
            if self.to_location is None or not self.to_location.strip():
                raise InvalidMovement("to_location", "a transfer needs a destination")
            if self.to_location == self.location:
                raise InvalidMovement("to_location", "a transfer must go to another location")
        elif self.to_location is not None:
            raise InvalidMovement("to_location", f"a {self.type.value} has no destination")
        if self.type is MovementType.RECEIPT and self.unit_cost is None:
            raise InvalidMovement("unit_cost", "a receipt needs a unit cost")
        if self.unit_cost is not None and (
            not isinstance(self.unit_cost, Decimal) or not self.unit_cost.is_finite() or self.unit_cost < 0
        ):
            raise InvalidMovement("unit_cost", "the unit cost must be a Decimal, zero or more")
        if self.type in (MovementType.ADJUSTMENT, MovementType.SCRAP) and (
            self.reason is None or not self.reason.strip()
        ):
            raise InvalidMovement("reason", f"a {self.type.value} needs a reason")

    @property
    def key(self) -> StockKey:
        """The stock the movement starts from (for a receipt: the stock it goes into)."""
        return StockKey(self.sku, self.location, self.lot)
