"""The capacity service's own tables: analyses, their inputs and their results, and the replica of
mrp's order book.

Results are immutable once an analysis has finished; a what-if (a proposal applied) is a new
analysis that shares its root's inputs (``inputs_id``) and lists the edits applied on top.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.platform import utcnow

capacity_registry = registry()


class CapacityModel(SQLModel, registry=capacity_registry):
    pass


class AnalysisStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (AnalysisStatus.SUCCEEDED, AnalysisStatus.FAILED, AnalysisStatus.CANCELLED)


def _fk() -> Any:
    return ForeignKey("analyses.id", ondelete="CASCADE")


class AnalysisRow(CapacityModel, table=True):
    """One capacity analysis (or what-if): its request, state, figures and where its inputs are."""

    __tablename__ = "analyses"
    __table_args__ = (
        Index("ix_analyses_created", "created_at", "id"),
        Index("ix_analyses_status", "status", "created_at"),
    )

    id: str = Field(sa_column=Column(Text, primary_key=True))
    status: str = Field(sa_column=Column(Text, nullable=False))
    progress: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    source: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    direction: str = Field(sa_column=Column(Text, nullable=False))
    bucket: str = Field(sa_column=Column(Text, nullable=False))
    from_date: date = Field(sa_column=Column(Date, nullable=False))
    to_date: date = Field(sa_column=Column(Date, nullable=False))
    overtime_factor: float = Field(sa_column=Column(Float, nullable=False))
    parent_id: str | None = Field(default=None, sa_column=Column(Text, _fk(), nullable=True))
    #: The analysis whose stored inputs this one computes from (itself, unless a what-if).
    inputs_id: str = Field(sa_column=Column(Text, nullable=False))
    #: Edits applied on top of the inputs, in order: ``[{"analysis", "proposal", "kind", "edits"}]``.
    applied: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    timings: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    bottleneck: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    client: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class AnalysisInputRow(CapacityModel, table=True):
    """The consistent snapshot an analysis computed from: orders and the master data they use."""

    __tablename__ = "analysis_inputs"

    analysis_id: str = Field(sa_column=Column(Text, _fk(), primary_key=True))
    replica_seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class AnalysisOperationRow(CapacityModel, table=True):
    """One operation placed in the analysis's direction, with both directions' milestones."""

    __tablename__ = "analysis_operations"

    analysis_id: str = Field(sa_column=Column(Text, _fk(), primary_key=True))
    order_id: str = Field(sa_column=Column(Text, primary_key=True))
    seq: int = Field(sa_column=Column(Integer, primary_key=True))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    quantity: float = Field(sa_column=Column(Float, nullable=False))
    work_center: str | None = Field(sa_column=Column(Text, nullable=True))
    machine: str | None = Field(sa_column=Column(Text, nullable=True))
    start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    minutes: float = Field(sa_column=Column(Float, nullable=False))
    working_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    earliest_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    earliest_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    latest_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    latest_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    slack_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    order_slack_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    change: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


class LoadCellRow(CapacityModel, table=True):
    """Load against capacity of one work center in one bucket."""

    __tablename__ = "analysis_load"

    analysis_id: str = Field(sa_column=Column(Text, _fk(), primary_key=True))
    work_center: str = Field(sa_column=Column(Text, primary_key=True))
    bucket_start: date = Field(sa_column=Column(Date, primary_key=True))
    load_minutes: float = Field(sa_column=Column(Float, nullable=False))
    capacity_minutes: float = Field(sa_column=Column(Float, nullable=False))


class OverloadRow(CapacityModel, table=True):
    __tablename__ = "analysis_overloads"

    analysis_id: str = Field(sa_column=Column(Text, _fk(), primary_key=True))
    work_center: str = Field(sa_column=Column(Text, primary_key=True))
    bucket_start: date = Field(sa_column=Column(Date, primary_key=True))
    load_minutes: float = Field(sa_column=Column(Float, nullable=False))
    capacity_minutes: float = Field(sa_column=Column(Float, nullable=False))
    gap_minutes: float = Field(sa_column=Column(Float, nullable=False))
    proposals: int = Field(sa_column=Column(Integer, nullable=False))


class ProposalRow(CapacityModel, table=True):
    """A costed, explained way out of one overloaded bucket; ``rank`` 1 is the best of its bucket."""

    __tablename__ = "analysis_proposals"
    __table_args__ = (
        Index("ix_analysis_proposals_cell", "analysis_id", "work_center", "bucket_start", "rank"),
    )

    analysis_id: str = Field(sa_column=Column(Text, _fk(), primary_key=True))
    id: int = Field(sa_column=Column(Integer, primary_key=True))
    work_center: str = Field(sa_column=Column(Text, nullable=False))
    bucket_start: date = Field(sa_column=Column(Date, nullable=False))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    cost: float = Field(sa_column=Column(Float, nullable=False))
    gap_minutes: float = Field(sa_column=Column(Float, nullable=False))
    relieved_minutes: float = Field(sa_column=Column(Float, nullable=False))
    closes_gap: bool = Field(sa_column=Column(Boolean, nullable=False))
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    order_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    target_work_center: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    target_bucket_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    edits: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class OrderReplicaRow(CapacityModel, table=True):
    """One order of mrp's book as the replica holds it (written with SQL in ``orders.py``)."""

    __tablename__ = "order_replica"

    id: str = Field(sa_column=Column(Text, primary_key=True))
    kind: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sku: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    quantity: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    remaining_qty: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    release_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: mrp's version of the order (0: only its cancellation is known).
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    cancelled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    event_time: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    #: The replica position at which this row was last written.
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    record: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class OrderReplicaStateRow(CapacityModel, table=True):
    """The order replica's position (changes applied) and its last resync."""

    __tablename__ = "order_replica_state"

    source: str = Field(sa_column=Column(Text, primary_key=True))
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    synced_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    synced_position: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    synced_orders: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    events_applied: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    events_ignored: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
