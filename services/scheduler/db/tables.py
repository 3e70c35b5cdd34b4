"""The scheduler's own tables: explicit solves, their problems and their assignments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
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

scheduler_registry = registry()


class SchedulerModel(SQLModel, registry=scheduler_registry):
    pass


class SolveStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (SolveStatus.SUCCEEDED, SolveStatus.FAILED, SolveStatus.CANCELLED)


class SolveRow(SchedulerModel, table=True):
    """One explicit solve: its state as a job, and the figures of its result."""

    __tablename__ = "solves"
    __table_args__ = (
        Index("ix_solves_created", "created_at", "id"),
        Index("ix_solves_status_created", "status", "created_at", "id"),
    )

    id: str = Field(sa_column=Column(Text, primary_key=True))
    status: str = Field(sa_column=Column(Text, nullable=False))
    progress: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    objectives: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    time_limit_s: float = Field(sa_column=Column(Float, nullable=False))
    num_workers: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    jobs: int = Field(sa_column=Column(Integer, nullable=False))
    operations: int = Field(sa_column=Column(Integer, nullable=False))
    machines: int = Field(sa_column=Column(Integer, nullable=False))
    cancel_requested: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    worker_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    solver_status: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    objective: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    best_bound: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    gap: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    objective_values: dict[str, int] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    statistics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    client: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    wall_s: float | None = Field(default=None, sa_column=Column(Float, nullable=True))


class SolveProblemRow(SchedulerModel, table=True):
    """The problem of a solve, as accepted by the API (kept apart: the solve row changes often)."""

    __tablename__ = "solve_problems"

    solve_id: str = Field(
        sa_column=Column(Text, ForeignKey("solves.id", ondelete="CASCADE"), primary_key=True)
    )
    problem: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class SolveAssignmentRow(SchedulerModel, table=True):
    """One operation of a solve's schedule (minutes from the problem's origin)."""

    __tablename__ = "solve_assignments"
    __table_args__ = (
        Index("ix_solve_assignments_machine", "solve_id", "machine", "start", "job", "operation"),
    )

    solve_id: str = Field(
        sa_column=Column(Text, ForeignKey("solves.id", ondelete="CASCADE"), primary_key=True)
    )
    job: str = Field(sa_column=Column(Text, primary_key=True))
    operation: str = Field(sa_column=Column(Text, primary_key=True))
    machine: str = Field(sa_column=Column(Text, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    end: int = Field(sa_column=Column(BigInteger, nullable=False))
