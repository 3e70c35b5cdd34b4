"""Request and response bodies of the mrp API (``XxxCreate`` / ``XxxPublic``).

Quantities are decimals with at most 6 decimal places; they are accepted as JSON numbers or strings
and answered as JSON numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer

Day = date


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number: an int when whole, else a float."""
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


_as_number = PlainSerializer(number, return_type=float, when_used="json")
Qty = Annotated[Decimal, _as_number]
PositiveQty = Annotated[Decimal, Field(gt=0, decimal_places=6, max_digits=24), _as_number]
NonNegativeQty = Annotated[Decimal, Field(ge=0, decimal_places=6, max_digits=24), _as_number]
Code = Annotated[str, Field(min_length=1, max_length=200)]

OrderKind = Literal["make", "buy"]
OrderStatus = Literal["planned", "firm", "released", "in_progress", "done", "closed", "cancelled"]


# -- sales orders ----------------------------------------------------------------------------------


class SalesOrderLineCreate(BaseModel):
    sku: Code
    qty: PositiveQty
    due_date: date


class SalesOrderCreate(BaseModel):
    number: Code
    customer: Code
    lines: list[SalesOrderLineCreate] = Field(min_length=1, max_length=10_000)


class SalesOrderLinePublic(BaseModel):
    line: int = Field(description="Line number, from 1")
    sku: str
    qty: Qty
    due_date: date
    status: Literal["open", "cancelled"]


class SalesOrderPublic(BaseModel):
    id: str
    number: str
    customer: str
    status: Literal["open", "cancelled"]
    source: Literal["api", "edi"]
    interchange_key: str | None = None
    version: int
    lines: list[SalesOrderLinePublic]
    created_at: datetime
    updated_at: datetime


class SalesOrderLinePatch(BaseModel):
    qty: PositiveQty | None = None
    due_date: date | None = None


class SalesOrderCancel(BaseModel):
    line: int | None = Field(
        default=None, ge=1, description="Cancel only this line; the whole order if absent"
    )


class SalesOrderList(BaseModel):
    items: list[SalesOrderPublic]
    next_page_token: str | None = None


class EdiResult(BaseModel):
    items: list[SalesOrderPublic]


# -- forecasts -------------------------------------------------------------------------------------


class ForecastBucketIn(BaseModel):
    start: date
    qty: NonNegativeQty


class ForecastPut(BaseModel):
    buckets: list[ForecastBucketIn] = Field(max_length=10_000)


class ForecastPublic(BaseModel):
    sku: str
    buckets: list[ForecastBucketIn]


# -- orders ----------------------------------------------------------------------------------------


class OrderCreate(BaseModel):
    kind: OrderKind
    sku: Code
    quantity: PositiveQty
    release_date: date
    due_date: date
    status: Literal["planned", "firm"] = "firm"
    supplier: Code | None = None


class ComponentQty(BaseModel):
    sku: str
    qty: Qty


class OrderPublic(BaseModel):
    id: str
    kind: OrderKind
    sku: str
    quantity: Qty
    received_qty: Qty = Field(description="Good quantity completed (make) or received (buy) so far")
    remaining_qty: Qty
    release_date: date
    due_date: date
    status: OrderStatus
    supplier: str | None = None
    unit_price: Qty | None = None
    purchase_order_id: str | None = None
    source_run: str | None = None
    source_planned_order: str | None = None
    components: list[ComponentQty] | None = Field(
        default=None, description="Components reserved at release (make orders)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class OrderList(BaseModel):
    items: list[OrderPublic]
    next_page_token: str | None = None


class OrderComplete(BaseModel):
    good_qty: PositiveQty
    location: Code | None = None
    lot: Code | None = None


class OrderReceive(BaseModel):
    qty: PositiveQty
    unit_cost: NonNegativeQty | None = None
    location: Code | None = None
    lot: Code | None = None


class PurchaseGroupRequest(BaseModel):
    order_ids: list[str] | None = Field(
        default=None,
        description="Only these buy orders; every planned or firm buy order not yet on a PO if absent",
    )


class PurchaseOrderLine(BaseModel):
    order_id: str
    sku: str
    quantity: Qty
    unit_price: Qty
    due_date: date


class PurchaseOrderPublic(BaseModel):
    id: str
    supplier: str
    status: str
    lines: list[PurchaseOrderLine]
    total: Qty


class PurchaseGroupResult(BaseModel):
    purchase_orders: list[PurchaseOrderPublic]
    unassigned: list[str] = Field(description="Buy orders for which no supplier supplies the sku")


# -- runs ------------------------------------------------------------------------------------------


class RunCreate(BaseModel):
    today: date | None = None
    horizon_days: int = Field(default=90, ge=1, le=3660)
    mode: Literal["regenerative", "net_change"] = "regenerative"
    release_window_days: int = Field(default=0, ge=0, le=3660)


class RunAccepted(BaseModel):
    id: str
    status: str


class RunPublic(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    mode: str
    requested_mode: str
    today: date
    horizon_days: int
    release_window_days: int
    progress: float
    counts: dict[str, int]
    timings: dict[str, float] = Field(description="Seconds: snapshot, compute, persist, total")
    snapshot: dict[str, Any] = Field(description="What the run read: replica seq, change seq, counts")
    note: str | None = None
    error: str | None = None
    previous_run: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    links: dict[str, str]


class RunList(BaseModel):
    items: list[RunPublic]
    next_page_token: str | None = None


class PegPublic(BaseModel):
    kind: str
    reference: str
    line: int | None = None
    parent_sku: str | None = None
    date: date
    quantity: Qty


class PlannedOrderPublic(BaseModel):
    id: str
    sku: str
    kind: OrderKind
    quantity: Qty
    release_date: date
    due_date: date
    pegging: list[PegPublic]


class PlannedOrderList(BaseModel):
    items: list[PlannedOrderPublic]
    next_page_token: str | None = None


class RecordRowPublic(BaseModel):
    date: date
    gross_requirements: Qty
    scheduled_receipts: Qty
    projected_available: Qty
    net_requirements: Qty
    planned_receipts: Qty
    planned_releases: Qty


class RecordPublic(BaseModel):
    run_id: str
    sku: str
    low_level_code: int
    starting_available: Qty
    safety_stock: Qty
    rows: list[RecordRowPublic]


class ActionPublic(BaseModel):
    kind: str
    sku: str
    order_id: str
    quantity: Qty
    new_date: Day | None = None
    date: Day


class ActionList(BaseModel):
    items: list[ActionPublic]
    next_page_token: str | None = None


class PlannedOrderBrief(BaseModel):
    id: str
    sku: str
    kind: OrderKind
    quantity: Qty
    release_date: date
    due_date: date


class OrderChangePublic(BaseModel):
    before: PlannedOrderBrief
    after: PlannedOrderBrief
    quantity_delta: Qty


class RunDiff(BaseModel):
    run: str
    other: str
    added: list[PlannedOrderBrief]
    removed: list[PlannedOrderBrief]
    changed: list[OrderChangePublic]


class StockSyncResult(BaseModel):
    positions: int
    changed_skus: int
