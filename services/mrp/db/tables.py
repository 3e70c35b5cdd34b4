"""The mrp tables (created by migration ``mrp_0003``).

The row classes describe the layout; the SQL itself lives in :mod:`services.mrp.db.repositories`
(bulk result writes use COPY, reads are keyset-paged).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Float, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.platform import utcnow

mrp_registry = registry()


class MrpModel(SQLModel, registry=mrp_registry):
    pass


def _ts(nullable: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)


class SalesOrderRow(MrpModel, table=True):
    __tablename__ = "sales_orders"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False, unique=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    number: str = Field(sa_column=Column(Text, nullable=False))
    customer: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", sa_column=Column(Text, nullable=False))
    source: str = Field(default="api", sa_column=Column(Text, nullable=False))
    interchange_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True, unique=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SalesOrderLineRow(MrpModel, table=True):
    __tablename__ = "sales_order_lines"

    order_id: str = Field(sa_column=Column(Text, primary_key=True))
    line: int = Field(sa_column=Column(Integer, primary_key=True))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(default="open", sa_column=Column(Text, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class ForecastRow(MrpModel, table=True):
    __tablename__ = "forecasts"

    sku: str = Field(sa_column=Column(Text, primary_key=True))
    start: date = Field(sa_column=Column(Date, primary_key=True))
    qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))


class PurchaseOrderRow(MrpModel, table=True):
    __tablename__ = "purchase_orders"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False, unique=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    supplier: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OrderRow(MrpModel, table=True):
    """A manufacturing (``make``) or purchase (``buy``) order of the order book."""

    __tablename__ = "orders"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False, unique=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    quantity: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    received_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    release_date: date = Field(sa_column=Column(Date, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    supplier: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    unit_price: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    purchase_order_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_run: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_planned_order: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    components: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class StockPositionRow(MrpModel, table=True):
    """The stock replica: one inventory position, with the sequence of the last change applied."""

    __tablename__ = "stock_positions"

    sku: str = Field(sa_column=Column(Text, primary_key=True))
    location: str = Field(sa_column=Column(Text, primary_key=True))
    lot: str = Field(default="", sa_column=Column(Text, primary_key=True))
    on_hand: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    reserved: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    nettable: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class MrpRunRow(MrpModel, table=True):
    __tablename__ = "mrp_runs"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False, unique=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    status: str = Field(sa_column=Column(Text, nullable=False))
    mode: str = Field(sa_column=Column(Text, nullable=False))
    requested_mode: str = Field(sa_column=Column(Text, nullable=False))
    today: date = Field(sa_column=Column(Date, nullable=False))
    horizon_days: int = Field(sa_column=Column(Integer, nullable=False))
    release_window_days: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    progress: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    timings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_run: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
