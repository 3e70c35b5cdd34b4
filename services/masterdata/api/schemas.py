"""Request and response bodies (the contract of ``/work/shared/API.md``, masterdata section).

Bodies are checked for shape here (types, required fields, unknown fields refused); the business
rules (positive quantities, references, cycles, overlaps...) are the domain's
(``domain.validation``), so that one 422 names every problem of a write at once. Decimals accept
JSON numbers or strings and are answered as numbers. Read-only fields of the answers (the key,
``version``, ``low_level_code``) are accepted back in a body and ignored, so a GET can be edited and
PUT again; a key in the body must match the path.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from services.masterdata.domain.model import ExceptionKind, ItemKind, LotSizingRule
from services.masterdata.events import number

Dec = Annotated[Decimal, PlainSerializer(number, return_type=float, when_used="json")]
Key = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, description="Read-only (the ETag); ignored on input")


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- items, units, families ------------------------------------------------------------------------


class LotSizingBody(Part):
    rule: LotSizingRule = LotSizingRule.LOT_FOR_LOT
    quantity: Dec | None = Field(default=None, description="Lot quantity of the fixed rule")
    periods: int | None = Field(default=None, description="Periods covered by the period rule")
    min_qty: Dec | None = None
    max_qty: Dec | None = None
    multiple: Dec | None = None


class ItemBody(Body):
    sku: Key | None = None
    name: str
    uom: Key
    kind: ItemKind
    family: str | None = None
    lead_time_days: int = 0
    safety_stock: Dec = Decimal(0)
    lot_sizing: LotSizingBody = Field(default_factory=LotSizingBody)
    standard_cost: Dec | None = None
    phantom: bool = False
    low_level_code: int | None = Field(default=None, description="Read-only (derived); ignored on input")


class UnitBody(Body):
    code: Key | None = None
    name: str = ""


class FamilyBody(Body):
    code: Key | None = None
    name: str = ""


class UnitConversionBody(Body):
    """1 ``from_uom`` = ``factor`` ``to_uom`` (usable both ways; for ``sku`` only when given)."""

    from_uom: Key | None = None
    to_uom: Key | None = None
    sku: str | None = None
    factor: Dec


# -- BOMs and routings -----------------------------------------------------------------------------


class BomLineBody(Part):
    component: Key
    qty_per: Dec
    scrap_pct: Dec = Decimal(0)
    valid_from: date | None = Field(default=None, description="First day the line counts (inclusive)")
    valid_to: date | None = Field(default=None, description="First day it no longer counts (exclusive)")
    uom: str | None = Field(default=None, description="Unit of qty_per when not the component's")


class BomBody(Body):
    parent: Key | None = None
    lines: list[BomLineBody]


class AlternateBody(Part):
    work_center: Key
    run_minutes_per_unit: Dec = Decimal(0)


class OperationBody(Part):
    seq: int
    work_center: Key
    setup_minutes: Dec = Decimal(0)
    run_minutes_per_unit: Dec = Decimal(0)
    alternates: list[AlternateBody] = Field(default_factory=list)


class RoutingBody(Body):
    sku: Key | None = None
    operations: list[OperationBody]


# -- work centers, calendars, suppliers ------------------------------------------------------------


class MachineBody(Part):
    code: Key


class WorkCenterBody(Body):
    code: Key | None = None
    name: str = ""
    machines: list[MachineBody]
    efficiency: Dec = Decimal(1)
    calendar: Key
    hourly_cost: Dec = Decimal(0)


class CalendarExceptionBody(Part):
    start: datetime
    end: datetime
    kind: ExceptionKind
    machine: str | None = Field(default=None, description="Only this machine (else the whole plant)")


class CalendarBody(Body):
    code: Key | None = None
    weekdays: dict[str, list[list[str]]] = Field(
        default_factory=dict,
        description=(
            'Shifts per weekday (mon … sun): [["06:00", "14:00"], ...]; end <= start crosses midnight'
        ),
    )
    holidays: list[date] = Field(default_factory=list)
    exceptions: list[CalendarExceptionBody] = Field(default_factory=list)


class SupplierItemBody(Part):
    sku: Key
    lead_time_days: int = 0
    min_order_qty: Dec = Decimal(0)
    multiple: Dec | None = None
    price: Dec = Decimal(0)
    priority: int = Field(default=1, description="Lower is preferred")
    uom: str | None = Field(default=None, description="Purchase unit when not the item's")


class SupplierBody(Body):
    code: Key | None = None
    name: str = ""
    items: list[SupplierItemBody] = Field(default_factory=list)


BODIES: dict[str, type[Body]] = {
    "unit": UnitBody,
    "family": FamilyBody,
    "unit_conversion": UnitConversionBody,
    "calendar": CalendarBody,
    "work_center": WorkCenterBody,
    "item": ItemBody,
    "bom": BomBody,
    "routing": RoutingBody,
    "supplier": SupplierBody,
}


def body_record(body: Body) -> dict[str, Any]:
    """The body as a record dict of Python values (read-only fields dropped)."""
    return body.model_dump(exclude={"version", "low_level_code"})


# -- imports ---------------------------------------------------------------------------------------


class ImportBody(BaseModel):
    """Lists of records, each with its key; validated as a whole and applied all-or-nothing."""

    model_config = ConfigDict(extra="forbid")

    units: list[UnitBody] = Field(default_factory=list)
    families: list[FamilyBody] = Field(default_factory=list)
    unit_conversions: list[UnitConversionBody] = Field(default_factory=list)
    calendars: list[CalendarBody] = Field(default_factory=list)
    work_centers: list[WorkCenterBody] = Field(default_factory=list)
    items: list[ItemBody] = Field(default_factory=list)
    boms: list[BomBody] = Field(default_factory=list)
    routings: list[RoutingBody] = Field(default_factory=list)
    suppliers: list[SupplierBody] = Field(default_factory=list)


class ImportResult(BaseModel):
    id: str
    status: Literal["succeeded"]
    source: Literal["json", "csv"]
    counts: dict[str, dict[str, int]]
    seq_from: int | None
    seq_to: int | None
    events: Literal["none", "per_record", "snapshot"]
    timings_ms: dict[str, float]


# -- derived data ----------------------------------------------------------------------------------


class ExplodedLineOut(BaseModel):
    level: int
    path: list[str]
    sku: str
    qty_per: float
    quantity: float
    low_level_code: int
    phantom: bool


class QuantityOut(BaseModel):
    sku: str
    quantity: float


class ExplosionOut(BaseModel):
    sku: str
    quantity: float
    at: date
    lines: list[ExplodedLineOut]
    totals: list[QuantityOut]


class WhereUsedLineOut(BaseModel):
    level: int
    path: list[str]
    sku: str
    qty_per: float
    quantity: float
    end_item: bool


class WhereUsedOut(BaseModel):
    sku: str
    at: date | None
    levels: Literal["single", "all"]
    items: list[WhereUsedLineOut]


class CumulativeLeadTimeOut(BaseModel):
    sku: str
    days: int
    critical_path: list[str]
    at: date | None


class CostOut(BaseModel):
    sku: str
    total: float
    material: float
    run: float
    setup: float
    purchased: float
    rolled_run: float
    rolled_setup: float
    per_level: list[float]
    source: str
    lot_size: float


class CostRollupOut(CostOut):
    at: date
    components: list[CostOut]


class LowLevelCodeOut(BaseModel):
    sku: str
    low_level_code: int
    version: int


class HistoryEntryOut(BaseModel):
    seq: int
    record_kind: str
    key: str
    version: int
    op: Literal["create", "update", "delete"]
    changed_at: datetime
    changed_by: str | None
    import_id: str | None
    changes: list[dict[str, Any]]
