"""The scheduler's plant tables: schedule versions, their snapshots and assignments, setup
matrices, shop-floor confirmations and operation progress, downtimes and order closures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from services.scheduler.db.tables import SchedulerModel
from shared.db.platform import utcnow


def _ts(nullable: bool = True) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)


class ScheduleRow(SchedulerModel, table=True):
    """One version of the plant schedule (a solve of the released orders on the plant's calendars)."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_status_version", "status", "version"),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    version: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), unique=True, nullable=False)
    )
    status: str = Field(sa_column=Column(Text, nullable=False))
    trigger: str = Field(default="request", sa_column=Column(Text, nullable=False))
    objectives: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    time_limit_s: float = Field(sa_column=Column(Float, nullable=False))
    horizon_days: int = Field(sa_column=Column(Integer, nullable=False))
    frozen_until: datetime | None = Field(default=None, sa_column=_ts())
    origin: datetime | None = Field(default=None, sa_column=_ts())
    progress: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    worker_id: str | None = Field(default=None, sa_column=Column(Text))
    solver_status: str | None = Field(default=None, sa_column=Column(Text))
    objective: int | None = Field(default=None, sa_column=Column(BigInteger))
    best_bound: int | None = Field(default=None, sa_column=Column(BigInteger))
    gap: float | None = Field(default=None, sa_column=Column(Float))
    objective_values: dict[str, int] | None = Field(default=None, sa_column=Column(JSONB))
    tardiness: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    statistics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    skipped: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    #: Per order: its material date and source (``domain.material.as_record``); None: not checked.
    material: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB))
    error: str | None = Field(default=None, sa_column=Column(Text))
    jobs: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    operations: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    machines: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    downtime_id: str | None = Field(default=None, sa_column=Column(Text))
    client: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts())
    heartbeat_at: datetime | None = Field(default=None, sa_column=_ts())
    wall_s: float | None = Field(default=None, sa_column=Column(Float))


class ScheduleSnapshotRow(SchedulerModel, table=True):
    """What a schedule was computed from: orders, master data, setups, downtimes, frozen work."""

    __tablename__ = "schedule_snapshots"

    schedule_id: str = Field(
        sa_column=Column(Text, ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True)
    )
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class ScheduleAssignmentRow(SchedulerModel, table=True):
    __tablename__ = "schedule_assignments"
    __table_args__ = (Index("ix_schedule_assignments_machine", "schedule_id", "machine", "start"),)

    schedule_id: str = Field(
        sa_column=Column(Text, ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True)
    )
    job: str = Field(sa_column=Column(Text, primary_key=True))
    operation: str = Field(sa_column=Column(Text, primary_key=True))
    machine: str = Field(sa_column=Column(Text, nullable=False))
    work_center: str = Field(sa_column=Column(Text, nullable=False))
    start: datetime = Field(sa_column=_ts(False))
    end: datetime = Field(sa_column=_ts(False))
    duration_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    setup_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    frozen: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class SetupMatrixRow(SchedulerModel, table=True):
    __tablename__ = "setup_matrices"

    work_center: str = Field(sa_column=Column(Text, primary_key=True))
    entries: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))


class ConfirmationRow(SchedulerModel, table=True):
    __tablename__ = "confirmations"
    __table_args__ = (Index("ix_confirmations_order", "order_id", "operation", "seq"),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), unique=True, nullable=False)
    )
    order_id: str = Field(sa_column=Column(Text, nullable=False))
    operation: str = Field(sa_column=Column(Text, nullable=False))
    machine: str = Field(sa_column=Column(Text, nullable=False))
    event: str = Field(sa_column=Column(Text, nullable=False))
    good_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    scrap_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(sa_column=_ts(False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))


class OperationProgressRow(SchedulerModel, table=True):
    """The state of one operation on the shop floor (folded from its confirmations)."""

    __tablename__ = "operation_progress"

    order_id: str = Field(sa_column=Column(Text, primary_key=True))
    operation: str = Field(sa_column=Column(Text, primary_key=True))
    state: str = Field(sa_column=Column(Text, nullable=False))
    machine: str = Field(sa_column=Column(Text, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts())
    last_at: datetime | None = Field(default=None, sa_column=_ts())
    running_since: datetime | None = Field(default=None, sa_column=_ts())
    worked_minutes: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    good_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))
    scrap_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric, nullable=False))


class DowntimeRow(SchedulerModel, table=True):
    __tablename__ = "downtimes"
    __table_args__ = (Index("ix_downtimes_machine", "machine", "start"),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    machine: str = Field(sa_column=Column(Text, nullable=False))
    start: datetime = Field(sa_column=_ts(False))
    end: datetime | None = Field(default=None, sa_column=_ts())
    reason: str | None = Field(default=None, sa_column=Column(Text))
    schedule_id: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))


class OrderClosureRow(SchedulerModel, table=True):
    __tablename__ = "order_closures"

    order_id: str = Field(sa_column=Column(Text, primary_key=True))
    sku: str = Field(sa_column=Column(Text, nullable=False))
    quantity: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    good_qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    scrap_qty: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    actual: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    standard: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    closed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
