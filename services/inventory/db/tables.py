"""The inventory tables (created by migration ``inventory_0003``).

Hot paths (movements, balances, valuation) use SQL written in ``repositories``; these row classes
describe the layout and serve the simple reads and writes. ``lot`` is ``''`` for stock that is
not lot-controlled.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, BigInteger, Boolean, Column, Date, DateTime, Integer, Numeric, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.platform import utcnow

inventory_registry = registry()


class InventoryModel(SQLModel, registry=inventory_registry):
    pass


def _ts(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class LocationRow(InventoryModel, table=True):
    __tablename__ = "locations"

    code: str = Field(sa_column=Column(Text, primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default="bin", sa_column=Column(Text, nullable=False))
    parent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    nettable: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    allow_negative: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class LotRow(InventoryModel, table=True):
    __tablename__ = "lots"

    sku: str = Field(sa_column=Column(Text, primary_key=True))
    code: str = Field(sa_column=Column(Text, primary_key=True))
    received_at: datetime = Field(sa_column=_ts())
    expiry: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class BalanceRow(InventoryModel, table=True):
    __tablename__ = "balances"

    sku: str = Field(sa_column=Column(Text, primary_key=True))
    location: str = Field(sa_column=Column(Text, primary_key=True))
    lot: str = Field(default="", sa_column=Column(Text, primary_key=True))
    on_hand: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    reserved: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class MovementRow(InventoryModel, table=True):
    """One ledger entry, what it booked in value and the sku's running figures after it."""

    __tablename__ = "movements"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    type: str = Field(sa_column=Column(Text, nullable=False))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    delta: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    location: str = Field(sa_column=Column(Text, nullable=False))
    to_location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lot: str = Field(default="", sa_column=Column(Text, nullable=False))
    unit_cost: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reference: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reservation_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    dedup_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True, unique=True))
    at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    fifo_value: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    fifo_cogs: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    avg_value: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    avg_cogs: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    ppv: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    sku_qty_after: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    fifo_value_after: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    avg_value_after: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    avg_cost_after: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    fifo_last_cost_after: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    ppv_total_after: Decimal = Field(sa_column=Column(Numeric, nullable=False))


class ItemCostRow(InventoryModel, table=True):
    """A sku's current valuation state (FIFO value, weighted average, purchase price variance)."""

    __tablename__ = "item_costs"

    sku: str = Field(sa_column=Column(Text, primary_key=True))
    qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    fifo_value: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    fifo_last_cost: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    avg_value: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    avg_cost: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    ppv_total: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    last_movement_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class CostLayerRow(InventoryModel, table=True):
    """An open FIFO layer of a sku (or, ``shortfall``, a quantity issued before it was received)."""

    __tablename__ = "cost_layers"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    shortfall: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    unit_cost: Decimal = Field(sa_column=Column(Numeric, nullable=False))


class ReservationRow(InventoryModel, table=True):
    __tablename__ = "reservations"

    id: str = Field(sa_column=Column(Text, primary_key=True))
    order_ref: str = Field(sa_column=Column(Text, nullable=False))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    policy: str = Field(sa_column=Column(Text, nullable=False))
    requested: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    reserved: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    consumed: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    released: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    dedup_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ReservationLineRow(InventoryModel, table=True):
    __tablename__ = "reservation_lines"

    reservation_id: str = Field(sa_column=Column(Text, primary_key=True))
    line: int = Field(sa_column=Column(Integer, primary_key=True))
    location: str = Field(sa_column=Column(Text, nullable=False))
    lot: str = Field(sa_column=Column(Text, nullable=False))
    qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))


class CountRow(InventoryModel, table=True):
    __tablename__ = "counts"

    id: str = Field(sa_column=Column(Text, primary_key=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    skus: list[str] | None = Field(default=None, sa_column=Column(ARRAY(Text), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    snapshot_at: datetime = Field(sa_column=_ts())
    posted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    tolerance_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    tolerance_ratio: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CountLineRow(InventoryModel, table=True):
    __tablename__ = "count_lines"

    count_id: str = Field(sa_column=Column(Text, primary_key=True))
    sku: str = Field(sa_column=Column(Text, primary_key=True))
    location: str = Field(sa_column=Column(Text, primary_key=True))
    lot: str = Field(sa_column=Column(Text, primary_key=True))
    expected: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    counted: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    counted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
