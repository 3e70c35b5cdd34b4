"""Request and response bodies of the scheduler API (``XxxCreate`` in, ``XxxPublic`` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from services.scheduler.domain.model import (
    Job,
    Objective,
    Operation,
    Option,
    Problem,
    Unavailability,
)
from shared.web.problems import FieldError

Id = Annotated[str, Field(min_length=1, max_length=200)]
Minutes = Annotated[int, Field(ge=0, le=10**12)]
ObjectiveName = Literal["makespan", "weighted_tardiness"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


ObjectiveList = Annotated[
    list[ObjectiveName],
    Field(min_length=1, max_length=2),
    BeforeValidator(_as_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": ["makespan", "weighted_tardiness"]},
                {
                    "type": "array",
                    "items": {"type": "string", "enum": ["makespan", "weighted_tardiness"]},
                    "minItems": 1,
                    "maxItems": 2,
                },
            ],
            "description": "One objective, or a lexicographic list of them (most important first)",
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_Strict):
    machine: Id
    duration: Annotated[int, Field(ge=1, le=10**9, description="Minutes on this machine (at least 1)")]


class OperationIn(_Strict):
    id: Id
    family: Annotated[str | None, Field(default=None, max_length=200)] = None
    options: Annotated[list[OptionIn], Field(min_length=1, max_length=1000)]


class JobIn(_Strict):
    id: Id
    due: Minutes | None = None
    weight: Annotated[int, Field(ge=0, le=10**6)] = 1
    release: Minutes = 0
    operations: Annotated[list[OperationIn], Field(min_length=1, max_length=10_000)]


class SetupIn(_Strict):
    machine: Id
    from_family: Id
    to_family: Id
    minutes: Annotated[int, Field(ge=0, le=10**9)]


class UnavailabilityIn(_Strict):
    machine: Id
    start: Minutes
    end: Minutes


class SolveCreate(_Strict):
    """An explicit problem: jobs of operations with machine options, integer minutes from 0."""

    jobs: Annotated[list[JobIn], Field(min_length=1, max_length=100_000)]
    setups: list[SetupIn] = Field(default_factory=list, max_length=1_000_000)
    unavailability: list[UnavailabilityIn] = Field(default_factory=list, max_length=1_000_000)
    objective: ObjectiveList = Field(default_factory=lambda: list[ObjectiveName](["makespan"]))
    time_limit_s: Annotated[float, Field(gt=0, description="Wall-clock budget of the solve")] = 10.0
    num_workers: Annotated[int | None, Field(ge=1, le=64, description="CP-SAT search workers")] = None

    def field_errors(self, max_time_limit_s: float) -> list[FieldError]:
        """What pydantic cannot see: duplicates, due dates the objective needs, windows, limits."""
        errors: list[FieldError] = []

        def bad(field: str, message: str, code: str = "invalid") -> None:
            errors.append(FieldError(field=field, message=message, code=code))

        if len(set(self.objective)) != len(self.objective):
            bad("objective", "an objective may appear only once", "duplicate")
        if self.time_limit_s > max_time_limit_s:
            bad("time_limit_s", f"must be at most {max_time_limit_s:g} s", "less_than_equal")
        tardiness = "weighted_tardiness" in self.objective
        jobs: set[str] = set()
        for i, job in enumerate(self.jobs):
            if job.id in jobs:
                bad(f"jobs[{i}].id", f"job {job.id!r} appears more than once", "duplicate")
            jobs.add(job.id)
            if tardiness and job.due is None:
                bad(f"jobs[{i}].due", "weighted tardiness needs a due date on every job", "missing")
            ops: set[str] = set()
            for k, op in enumerate(job.operations):
                if op.id in ops:
                    bad(
                        f"jobs[{i}].operations[{k}].id",
                        f"operation {op.id!r} appears more than once in job {job.id!r}",
                        "duplicate",
                    )
                ops.add(op.id)
        setups: set[tuple[str, str, str]] = set()
        for i, s in enumerate(self.setups):
            key = (s.machine, s.from_family, s.to_family)
            if key in setups:
                bad(f"setups[{i}]", f"setup {key} appears more than once", "duplicate")
            setups.add(key)
        for i, w in enumerate(self.unavailability):
            if w.end <= w.start:
                bad(f"unavailability[{i}].end", "must be after start", "greater_than")
        return errors

    def machines(self) -> tuple[str, ...]:
        """Every machine named, in order of first appearance (options, then setups and windows)."""
        seen: dict[str, None] = {}
        for job in self.jobs:
            for op in job.operations:
                for opt in op.options:
                    seen.setdefault(opt.machine)
        for s in self.setups:
            seen.setdefault(s.machine)
        for w in self.unavailability:
            seen.setdefault(w.machine)
        return tuple(seen)

    def operation_count(self) -> int:
        return sum(len(j.operations) for j in self.jobs)

    def to_problem(self) -> Problem:
        return Problem(
            jobs=tuple(
                Job(
                    id=j.id,
                    operations=tuple(
                        Operation(
                            id=o.id,
                            options=tuple(Option(x.machine, x.duration) for x in o.options),
                            family=o.family,
                        )
                        for o in j.operations
                    ),
                    release=j.release,
                    due=j.due,
                    weight=j.weight,
                )
                for j in self.jobs
            ),
            machines=self.machines(),
            setups={(s.machine, s.from_family, s.to_family): s.minutes for s in self.setups},
            objective=tuple(Objective(o) for o in self.objective),
            unavailability=tuple(Unavailability(w.machine, w.start, w.end) for w in self.unavailability),
        )


SolveStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
SolverStatusName = Literal["optimal", "feasible", "infeasible", "unknown"]


class SolveAccepted(BaseModel):
    id: str
    status: SolveStatusName


class SolveProblemSummary(BaseModel):
    jobs: int
    operations: int
    machines: int
    objective: list[ObjectiveName]
    time_limit_s: float
    num_workers: int | None


class SolveTimings(BaseModel):
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wall_s: float | None = Field(description="Seconds the last attempt ran (start to finish)")


class SolveLinks(BaseModel):
    self: str
    assignments: str
    cancel: str


class SolvePublic(BaseModel):
    id: str
    status: SolveStatusName
    progress: float = Field(description="0–1, by time spent against the time limit; 1 when finished")
    cancel_requested: bool
    problem: SolveProblemSummary
    solver_status: SolverStatusName | None = Field(
        description="optimal (proven), feasible, infeasible (proven) or unknown"
    )
    objective: int | None = Field(description="Value of the primary objective of the best schedule")
    best_bound: int | None
    gap: float | None = Field(description="(objective − bound) / objective")
    objective_values: dict[str, int] | None = Field(description="Every requested objective's value")
    worker: str | None = Field(description="The worker that ran (or runs) the last attempt")
    attempts: int
    last_heartbeat_at: datetime | None
    timings: SolveTimings
    statistics: dict[str, Any]
    error: str | None
    links: SolveLinks


class SolveList(BaseModel):
    items: list[SolvePublic]
    next_page_token: str | None = None


class AssignmentPublic(BaseModel):
    job: str
    operation: str
    machine: str
    start: int = Field(description="Minutes from the problem's origin")
    end: int


class AssignmentList(BaseModel):
    items: list[AssignmentPublic]
    next_page_token: str | None = None
