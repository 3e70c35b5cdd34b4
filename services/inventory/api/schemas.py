"""Request and response bodies of the inventory API, and the dependencies its routers share.

Quantities and money are decimals: accepted as JSON numbers or strings, answered as JSON numbers
(integers when whole).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer

from services.inventory.domain.model import LocationKind, MovementType
from services.inventory.domain.reservations import AllocationPolicy
from services.inventory.domain.valuation import CostMethod
from services.inventory.settings import InventorySettings
from shared.db.uow import UnitOfWork
from shared.web.app import runtime_of
from shared.web.problems import ValidationFailed


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number: an integer when whole, else the shortest float that reads back."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


Num = Annotated[Decimal, PlainSerializer(number, return_type=float, when_used="json")]
Code = Annotated[str, Field(min_length=1, max_length=200)]


async def settings_of(request: Request) -> InventorySettings:
    # ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request.
    settings = runtime_of(request).settings
    assert isinstance(settings, InventorySettings)
    return settings


SettingsDep = Annotated[InventorySettings, Depends(settings_of)]


async def uow_of(request: Request) -> UnitOfWork:
    """The service's unit of work (as ``shared.web.app.UowDep``, without the thread-pool hop)."""
    return runtime_of(request).uow()


FastUowDep = Annotated[UnitOfWork, Depends(uow_of)]


def parse_as_of(value: str | None, field: str = "query.as_of") -> date | datetime | None:
    """``as_of``: a date (the whole UTC day) or a timestamp with offset."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed.one(field, "not an ISO 8601 date or timestamp") from exc
    if parsed.tzinfo is None:
        raise ValidationFailed.one(field, "a timestamp needs a UTC offset")
    return parsed


# ------------------------------------------------------------------------------- movements


class MovementCreate(BaseModel):
    type: MovementType
    sku: Code
    qty: Decimal = Field(description="Positive; signed for an adjustment")
    location: Code | None = Field(default=None, description="Default: MAIN")
    to_location: Code | None = Field(default=None, description="A transfer's destination")
    lot: Code | None = None
    expiry: date | None = Field(default=None, description="Expiry of a received lot")
    unit_cost: Decimal | None = Field(default=None, description="Required on a receipt")
    reason: str | None = Field(default=None, max_length=500, description="Required on adjustment, scrap")
    reference: str | None = Field(default=None, max_length=200)
    at: AwareDatetime | None = Field(
        default=None, description="When it happened (default now); not before the sku's last movement"
    )


class BalanceLine(BaseModel):
    sku: str
    location: str
    lot: str | None
    on_hand: Num
    reserved: Num | None
    available: Num | None


class BalanceAfterPublic(BalanceLine):
    qty_delta: Num


class MovementPublic(BaseModel):
    id: str
    seq: int
    type: MovementType
    sku: str
    qty: Num
    location: str
    to_location: str | None = None
    lot: str | None = None
    unit_cost: Num | None = None
    reason: str | None = None
    reference: str | None = None
    reservation_id: str | None = None
    at: datetime
    recorded_at: datetime
    fifo_value: Num = Field(description="Signed change of the stock value under FIFO")
    average_value: Num = Field(description="Signed change of the stock value at weighted average cost")
    purchase_price_variance: Num = Field(description="Against the standard cost (receipts)")
    balances: list[BalanceAfterPublic] | None = Field(
        default=None, description="The balances this movement left (in the answer to its creation)"
    )


class MovementList(BaseModel):
    items: list[MovementPublic]
    next_page_token: str | None = None


class BalanceList(BaseModel):
    items: list[BalanceLine]
    as_of: str | None = None
    next_page_token: str | None = None


# ------------------------------------------------------------------------------- locations, lots


class LocationPut(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind = LocationKind.BIN
    parent: Code | None = None
    nettable: bool = True
    allow_negative: bool = False


class LocationPublic(LocationPut):
    code: str
    version: int
    created_at: datetime
    updated_at: datetime


class LocationList(BaseModel):
    items: list[LocationPublic]
    next_page_token: str | None = None


class LotPut(BaseModel):
    expiry: date | None = None
    received_at: AwareDatetime | None = Field(default=None, description="Default: now, on creation")


class LotPublic(BaseModel):
    sku: str
    code: str
    received_at: datetime
    expiry: date | None
    version: int


# ------------------------------------------------------------------------------- reservations


class ReservationCreate(BaseModel):
    order: Code
    sku: Code
    qty: Decimal
    policy: AllocationPolicy = Field(
        default=AllocationPolicy.FIFO, description="fifo: by receipt date; fefo: by expiry"
    )
    allow_partial: bool = Field(default=False, description="Reserve what is available on a shortage")
    location: Code | None = Field(default=None, description="Only stock in this location")


class ReservationLinePublic(BaseModel):
    location: str
    lot: str | None
    qty: Num


class ReservationPublic(BaseModel):
    id: str
    order: str
    sku: str
    policy: str
    status: Literal["open", "consumed", "released"]
    requested: Num
    reserved: Num
    held: Num
    consumed: Num
    released: Num
    short: Num
    created_at: datetime
    lines: list[ReservationLinePublic]
    movements: list[str] = Field(default_factory=list, description="Issues booked by a consumption")


class ReservationList(BaseModel):
    items: list[ReservationPublic]


class ReservationConsume(BaseModel):
    qty: Decimal | None = Field(default=None, description="Default: all that is held")
    reference: str | None = Field(default=None, max_length=200)


class PickLinePublic(BaseModel):
    sku: str
    lot: str | None
    bin: str
    qty: Num


class PickList(BaseModel):
    order: str
    items: list[PickLinePublic]


# ------------------------------------------------------------------------------- valuation


class ItemValuePublic(BaseModel):
    sku: str
    qty: Num
    unit_cost: Num
    value: Num
    purchase_price_variance: Num | None = None


class ValuationPublic(BaseModel):
    method: CostMethod
    as_of: str | None
    items: list[ItemValuePublic]
    total: Num
    missing_standard_costs: list[str] = Field(
        default_factory=list, description="Standard method: skus without a standard cost (valued at 0)"
    )


# ------------------------------------------------------------------------------- counts


class CountCreate(BaseModel):
    kind: Literal["full", "cycle"] = "full"
    location: Code | None = None
    skus: list[Code] | None = Field(default=None, description="Cycle count default: the skus due today")
    reason: str | None = Field(default=None, max_length=200)


class CountLineInput(BaseModel):
    sku: Code
    location: Code | None = Field(default=None, description="Default: MAIN")
    lot: Code | None = None
    counted: Decimal = Field(ge=0)


class CountLinesInput(BaseModel):
    lines: list[CountLineInput] = Field(min_length=1)


class CountPost(BaseModel):
    tolerance_qty: Decimal = Field(default=Decimal(0), ge=0)
    tolerance_ratio: Decimal = Field(default=Decimal(0), ge=0, le=1)


class CountLinePublic(BaseModel):
    sku: str
    location: str
    lot: str | None
    expected: Num
    counted: Num | None
    difference: Num | None


class AccuracyPublic(BaseModel):
    lines: int
    within: int
    share: Num | None


class CountPublic(BaseModel):
    id: str
    kind: str
    status: str
    location: str | None
    skus: list[str] | None
    reason: str
    snapshot_at: datetime
    posted_at: datetime | None
    lines: list[CountLinePublic]
    accuracy: AccuracyPublic
    adjustments: list[str] = Field(default_factory=list, description="Movements booked by the posting")


class DueCountPublic(BaseModel):
    sku: str
    abc_class: str = Field(serialization_alias="class")
    due_on: date | None
    days_overdue: int | None


class DueCountList(BaseModel):
    on: date
    items: list[DueCountPublic]


# ------------------------------------------------------------------------------- analytics


class AbcLinePublic(BaseModel):
    sku: str
    abc_class: str = Field(serialization_alias="class")
    rank: int
    issued_qty: Num
    unit_cost: Num
    value: Num
    share: Num
    cumulative_share: Num


class AbcPublic(BaseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    thresholds: dict[str, Num]
    total_value: Num
    items: list[AbcLinePublic]


class ReorderPublic(BaseModel):
    sku: str
    service_level: Num
    lead_time_days: Num
    period_days: int
    periods: int
    demand: list[Num]
    mean_demand: Num
    sigma: Num
    z: Num
    lead_time_periods: Num
    safety_stock: Num
    reorder_point: Num


class KpiItem(BaseModel):
    sku: str
    on_hand: Num
    issued: Num
    days_of_coverage: Num | None


class AgeingPublic(BaseModel):
    sku: str
    location: str
    lot: str | None
    on_hand: Num
    last_movement: date | None
    idle_days: int | None
    status: str
    reason: str


class KpisPublic(BaseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    cost_of_goods_issued: Num
    average_stock_value: Num
    stock_value: Num
    turnover: Num | None
    days_of_coverage: Num | None
    items: list[KpiItem]
    dormant: list[AgeingPublic]
    obsolete: list[AgeingPublic]


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
