"""Bodies of the S&OP and MPS endpoints (``/v1/mrp/sop-plans``, ``/v1/mrp/mps``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, field_validator, model_validator

from services.mrp.api.schemas import Code, NonNegativeQty, OrderPublic, PositiveQty, Qty, number

MAX_MONTHS = 60
MAX_WEEKS = 260

_NonNegative = Annotated[Decimal, Field(ge=0, decimal_places=6, max_digits=24)]


def _per_month_json(value: Decimal | list[Decimal]) -> Any:
    return [number(v) for v in value] if isinstance(value, list) else number(value)


PerMonth = Annotated[
    list[_NonNegative] | _NonNegative, PlainSerializer(_per_month_json, return_type=Any, when_used="json")
]


# -- S&OP ------------------------------------------------------------------------------------------


class SopCostsIn(BaseModel):
    holding: NonNegativeQty = Field(default=Decimal(0), description="Per unit of ending stock per month")
    backlog: NonNegativeQty = Field(default=Decimal(0), description="Per unit of ending backlog per month")
    rate_increase: NonNegativeQty = Field(
        default=Decimal(0), description="Per unit per working day of rate increase"
    )
    rate_decrease: NonNegativeQty = Field(
        default=Decimal(0), description="Per unit per working day of rate decrease"
    )


class SopPlanCreate(BaseModel):
    family: Code
    first_month: date = Field(description="The first month: `2026-11` or any day of it")
    months: int = Field(ge=1, le=MAX_MONTHS, description="How many months, from first_month")
    strategy: Literal["level", "chase", "mixed"] = "level"
    target_stock: PerMonth | None = Field(
        default=None, description="Ending stock target (units): one for every month, or one per month"
    )
    target_days: PerMonth | None = Field(
        default=None, description="Ending stock target in days of the next month's demand per working day"
    )
    capacity: PerMonth | None = Field(
        default=None, description="Production capacity (units): one for every month, or one per month"
    )
    costs: SopCostsIn | None = Field(
        default=None, description="When given, the plan compares the three strategies' costs"
    )
    initial_rate: NonNegativeQty | None = Field(
        default=None, description="Production per working day before the horizon"
    )
    unit: PositiveQty = Field(default=Decimal(1), description="Rounding quantum of computed quantities")
    key_work_centers: list[Code] | None = Field(
        default=None, description="Rough-cut only these work centers (default: every one the family loads)"
    )

    @field_validator("first_month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 7:
            return f"{value}-01"
        return value

    @model_validator(mode="after")
    def _first_day(self) -> SopPlanCreate:
        self.first_month = self.first_month.replace(day=1)
        return self


class SopMonthPublic(BaseModel):
    month: date
    working_days: int
    orders: Qty = Field(description="Open sales-order quantity of the family's items due in the month")
    forecast: Qty = Field(description="Forecast left after consumption by the orders")
    demand: Qty = Field(description="orders + forecast")
    target_stock: Qty
    capacity: Qty | None
    production: Qty
    rate: Qty = Field(description="Production per working day")
    change: Qty
    rate_change: Qty
    ending_stock: Qty
    backlog: Qty
    utilisation: Qty | None


class SopTotalsPublic(BaseModel):
    demand: Qty
    production: Qty
    stock_unit_months: Qty
    backlog_unit_months: Qty
    final_stock: Qty
    final_backlog: Qty
    max_backlog: Qty
    rate_increase: Qty
    rate_decrease: Qty
    unmade: Qty
    holding_cost: Qty | None = None
    backlog_cost: Qty | None = None
    change_cost: Qty | None = None
    total_cost: Qty | None = None


class StrategyResult(BaseModel):
    strategy: Literal["level", "chase", "mixed"]
    totals: SopTotalsPublic
    production: list[Qty]


class RoughCutMonthPublic(BaseModel):
    month: date
    load_minutes: Qty
    capacity_minutes: Qty
    utilisation: Qty | None
    overloaded: bool


class RoughCutCenterPublic(BaseModel):
    work_center: str
    minutes_per_unit: Qty = Field(description="Bill of resources: minutes per unit of the family")
    months: list[RoughCutMonthPublic]


class RoughCutOverload(BaseModel):
    work_center: str
    month: date
    load_minutes: Qty
    capacity_minutes: Qty
    excess_minutes: Qty


class RoughCutPublic(BaseModel):
    work_centers: list[RoughCutCenterPublic]
    overloads: list[RoughCutOverload]
    items_without_routing: list[str] = Field(
        description="Make items of the family (or below) without a routing: they load nothing"
    )


class SopPlanPublic(BaseModel):
    id: str
    family: str
    strategy: Literal["level", "chase", "mixed"]
    first_month: date
    items: list[str]
    opening_stock: Qty
    months: list[SopMonthPublic]
    totals: SopTotalsPublic
    rough_cut: RoughCutPublic
    comparison: list[StrategyResult] | None = Field(
        default=None, description="The three strategies on the same inputs, cheapest first (costs given)"
    )
    cheapest: str | None = None
    request: dict[str, Any]
    created_at: datetime
    links: dict[str, str]


class SopPlanList(BaseModel):
    items: list[SopPlanPublic]
    next_page_token: str | None = None


# -- MPS -------------------------------------------------------------------------------------------


class MpsCreate(BaseModel):
    sku: Code
    weeks: int = Field(default=12, ge=1, le=MAX_WEEKS)
    start: date | None = Field(
        default=None, description="First week (its Monday; any day means its week); default this week"
    )
    dtf: int = Field(default=0, ge=0, le=MAX_WEEKS, description="Demand time fence, in weeks")
    ptf: int = Field(default=0, ge=0, le=MAX_WEEKS, description="Planning time fence, in weeks")


class MpsWeekPublic(BaseModel):
    week: date
    zone: Literal["frozen", "slushy", "liquid"]
    forecast: Qty
    orders: Qty
    demand: Qty
    pab: Qty = Field(description="Projected available balance at the end of the week")
    firm_mps: Qty = Field(description="Firm receipts (firm, released, in-progress orders)")
    planned_mps: Qty
    mps: Qty
    atp: Qty | None
    cumulative_atp: Qty
    firmed_order: str | None = Field(default=None, description="The order this week's planned MPS became")


class MpsExceptionPublic(BaseModel):
    week: date
    kind: Literal["shortage_inside_ptf", "atp_negative", "orders_over_forecast"]
    quantity: Qty


class MpsPublic(BaseModel):
    id: str
    sku: str
    kind: Literal["make", "buy"]
    first_week: date
    dtf: int
    ptf: int
    on_hand: Qty
    safety_stock: Qty
    lead_time_days: int
    lot_sizing: dict[str, Any]
    weeks: list[MpsWeekPublic]
    exceptions: list[MpsExceptionPublic]
    version: int
    created_at: datetime
    updated_at: datetime
    links: dict[str, str]


class MpsList(BaseModel):
    items: list[MpsPublic]
    next_page_token: str | None = None


class MpsFirm(BaseModel):
    weeks: int | None = Field(
        default=None, ge=1, le=MAX_WEEKS, description="Firm the planned MPS of the first `weeks` weeks"
    )
    through: date | None = Field(
        default=None, description="Firm the planned MPS of the weeks up to this date"
    )


class MpsFirmResult(BaseModel):
    mps: MpsPublic
    orders: list[OrderPublic] = Field(
        description="The firm orders created (weeks already firmed are skipped)"
    )


class PromisePublic(BaseModel):
    mps_id: str
    sku: str
    qty: Qty
    wanted_week: date
    promised_week: date | None = Field(description="Earliest week the quantity can be promised; null: none")
    on_time: bool
