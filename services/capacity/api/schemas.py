"""Request and response bodies of the capacity API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Direction = Literal["backward", "forward"]
Bucket = Literal["day", "week", "month"]
AnalysisStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Code = Annotated[str, Field(min_length=1, max_length=200)]

INLINE_ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "sku", "quantity", "release_date", "due_date"],
    "properties": {
        "id": {"type": "string"},
        "sku": {"type": "string"},
        "quantity": {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "> 0"},
        "release_date": {"type": "string", "format": "date"},
        "due_date": {"type": "string", "format": "date"},
        "status": {"type": "string", "description": "Informative (default firm)"},
    },
}


class InlineOrder(BaseModel):
    """A manufacturing order given in the request (validated field by field by the handler)."""

    model_config = ConfigDict(extra="forbid")

    id: Code
    sku: Code
    quantity: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    release_date: date
    due_date: date
    status: Literal["planned", "firm", "released", "in_progress"] = "firm"


class AnalysisSource(BaseModel):
    """Exactly one of: ``{"mrp_run": id}`` (the run's planned make orders), ``{"orders":
    "firm+released"}`` (mrp's order book) or ``{"orders": [inline orders]}``."""

    model_config = ConfigDict(extra="forbid")

    mrp_run: Code | None = None
    orders: Annotated[
        str | list[Any] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "enum": ["firm+released"]},
                    {"type": "array", "items": INLINE_ORDER_SCHEMA, "minItems": 1},
                ]
            }
        ),
    ] = None


class AnalysisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: AnalysisSource
    direction: Direction = "backward"
    bucket: Bucket = "day"
    from_: date = Field(alias="from", description="First day of the horizon")
    to: date = Field(description="Last day of the horizon (inclusive)")
    overtime_factor: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 1.5


class AnalysisAccepted(BaseModel):
    id: str
    status: AnalysisStatusName


class AppliedProposal(BaseModel):
    analysis: str
    proposal: int
    kind: str


class AnalysisTimings(BaseModel):
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps_s: dict[str, float] = Field(
        description="Seconds per step: snapshot, milestones, load, proposals, store, total"
    )


class AnalysisLinks(BaseModel):
    self: str
    load: str
    operations: str
    overloads: str
    proposals: str
    load_overview: str
    firm: str | None = Field(default=None, description="For an analysis of an MRP run")


class AnalysisWarning(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    order: str | None = None
    sku: str | None = None
    work_center: str | None = None


class BottleneckPublic(BaseModel):
    work_center: str
    load_minutes: float
    capacity_minutes: float
    utilisation: float | None = Field(description="Null when the work center has load and no capacity")


class AnalysisPublic(BaseModel):
    id: str
    status: AnalysisStatusName
    progress: float
    source: dict[str, Any]
    direction: Direction
    bucket: Bucket
    from_: date = Field(serialization_alias="from")
    to: date
    overtime_factor: float
    parent: str | None = Field(description="The analysis a what-if was derived from")
    applied: list[AppliedProposal] = Field(description="Proposals applied (what-if), in order")
    counts: dict[str, Any]
    timings: AnalysisTimings
    bottleneck: BottleneckPublic | None
    warnings: list[AnalysisWarning]
    error: str | None
    links: AnalysisLinks


class AnalysisList(BaseModel):
    items: list[AnalysisPublic]
    next_page_token: str | None = None


class LoadCellPublic(BaseModel):
    work_center: str
    bucket_start: date
    load_minutes: float
    capacity_minutes: float
    utilisation: float | None = Field(
        description="load / capacity; 0 when both are 0; null when there is load and no capacity"
    )
    overloaded: bool


class LoadList(BaseModel):
    items: list[LoadCellPublic]
    next_page_token: str | None = None


class OperationPublic(BaseModel):
    order: str
    sku: str
    seq: int
    quantity: float
    work_center: str | None = Field(description="Where its load is (null: subcontracted by a what-if)")
    machine: str | None
    start: datetime = Field(description="In the analysis's direction")
    end: datetime
    minutes: float = Field(description="Operation time (setup + Q × run) / efficiency")
    working_minutes: int = Field(description="Whole working minutes it occupies")
    earliest_start: datetime = Field(description="Forward milestones")
    earliest_end: datetime
    latest_start: datetime = Field(description="Backward milestones")
    latest_end: datetime
    slack_minutes: int = Field(description="Working minutes from earliest to latest start (negative: late)")
    order_slack_minutes: int
    change: dict[str, Any] | None = Field(default=None, description="What a what-if changed")


class OperationList(BaseModel):
    items: list[OperationPublic]
    next_page_token: str | None = None


class OverloadPublic(BaseModel):
    work_center: str
    bucket_start: date
    load_minutes: float
    capacity_minutes: float
    gap_minutes: float
    utilisation: float | None
    proposals: int
    proposals_url: str


class OverloadList(BaseModel):
    items: list[OverloadPublic]
    next_page_token: str | None = None


class ProposalPublic(BaseModel):
    id: int
    work_center: str
    bucket_start: date
    rank: int = Field(description="1 is the best way out of its bucket (cost, then minutes relieved)")
    kind: Literal["overtime", "alternate", "subcontract", "move"]
    cost: float
    gap_minutes: float
    relieved_minutes: float
    closes_gap: bool
    explanation: str
    order: str | None
    seq: int | None
    target_work_center: str | None
    target_bucket_start: date | None
    edits: dict[str, Any] = Field(description="What applying it changes: operations' load, capacity")
    apply_url: str


class ProposalList(BaseModel):
    items: list[ProposalPublic]
    next_page_token: str | None = None


# -- rough-cut -------------------------------------------------------------------------------------


class RoughCutLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Code | None = None
    family: Code | None = None
    bucket_start: date
    qty: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class RoughCutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    plan: list[RoughCutLine] = Field(min_length=1, max_length=100_000)
    bucket: Literal["week", "month"] = "week"
    from_: date = Field(alias="from")
    to: date = Field(description="Last day of the horizon (inclusive)")


class RoughCutCell(LoadCellPublic):
    pass


class RoughCutResult(BaseModel):
    bucket: Literal["week", "month"]
    from_: date = Field(serialization_alias="from")
    to: date
    items: list[RoughCutCell]
    overloads: list[RoughCutCell]
    bottleneck: BottleneckPublic | None
    bill_of_resources: dict[str, dict[str, float]] = Field(
        description="Minutes per unit per work center, per sku (key: the sku) or family (key: family:<code>)"
    )
    warnings: list[AnalysisWarning]


# -- firming an analysed MRP run ------------------------------------------------------------------------


class FirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: Annotated[
        list[Code] | None,
        Field(
            min_length=1,
            description="Planned-order ids of the analysed run to firm (default: every make planned "
            "order the analysis loaded)",
        ),
    ] = None
    force: bool = Field(default=False, description="Firm even though the analysis still has overloads")


FirmOutcomeName = Literal["firmed", "already_firmed", "failed"]


class FirmOutcome(BaseModel):
    planned_order: str
    outcome: FirmOutcomeName
    order: str | None = Field(default=None, description="The order of mrp's book (firmed or already firmed)")
    status_code: int | None = Field(default=None, description="mrp's HTTP status (none: mrp did not answer)")
    detail: str | None = None


class FirmResult(BaseModel):
    analysis: str
    mrp_run: str
    overloads: int
    forced: bool
    firmed: int
    already_firmed: int
    failed: int
    orders: list[FirmOutcome]


# -- the order replica --------------------------------------------------------------------------------


class ReplicatedOrder(BaseModel):
    id: str
    kind: str | None
    sku: str | None
    quantity: float | None
    remaining_qty: float | None
    release_date: date | None
    due_date: date | None
    status: str | None
    version: int
    cancelled: bool
    position: int
    updated_at: datetime


class OrderReplicaStatus(BaseModel):
    position: int = Field(description="Changes applied so far (each event applied or resync: +1)")
    synced_at: datetime | None = Field(description="Last full resync from mrp (null: never)")
    synced_position: int | None
    synced_orders: int | None
    events_applied: int
    events_ignored: int = Field(description="Events older than (or equal to) what the replica holds")
    orders: int


class ReplicatedOrderList(BaseModel):
    items: list[ReplicatedOrder]
    next_page_token: str | None = None
    replica: OrderReplicaStatus
