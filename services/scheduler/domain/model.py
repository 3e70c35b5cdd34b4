"""The finite-scheduling problem and its solution, as plain data.

Time is integer minutes from the problem's origin (0). An explicit problem has no calendar: the
service turns calendars and maintenance into machine unavailability windows before solving.

Conventions shared by every module of this package (and re-checked by the independent validator):

- an operation runs on exactly one of its options, for that option's duration (at least one
  minute) of *working* minutes: it pauses across the *pausable* windows of its machine (below);
- operations of a job run in the order given; the first may not start before the job's release;
- a machine runs at most one operation at a time; a sequence-dependent setup
  ``setups[(machine, from_family, to_family)]`` occupies the machine during the minutes just
  before the operation that follows; the first operation of a machine needs no setup;
- nothing (operation or setup) runs inside an unavailability window ``[start, end)``. A *hard*
  window (the default: a breakdown, a frozen block) may not be spanned either. A *pausable* window
  (the machine's calendar break) may be: the work stops at its start and resumes at its end, and
  the elapsed time ``end − start`` is the duration plus the lengths of the pausable windows inside
  ``[start, end)``; an operation never starts or ends inside one (its first and last minutes are
  working minutes). Nothing else runs on the machine in between (the elapsed span is occupied);
- the setup before an operation forms one block with it and pauses the same way: its minutes are
  the last ``setup`` working minutes (outside pausable windows) before the operation's start, all
  after the previous operation's end, and the whole block ``[setup start, end)`` meets no hard
  window. (The setup before a *fixed* operation only needs ``setup`` minutes of gap.)
- a fixed assignment (started or frozen operation) keeps its machine, start and end as given;
  constraints between two fixed operations, and the release/windows of a fixed operation, are
  facts of the past and are not checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Objective(StrEnum):
    MAKESPAN = "makespan"
    WEIGHTED_TARDINESS = "weighted_tardiness"


class Status(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Option:
    """One way to run an operation: on ``machine`` for ``duration`` minutes."""

    machine: str
    duration: int


@dataclass(frozen=True, slots=True)
class Operation:
    id: str
    options: tuple[Option, ...]
    family: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    operations: tuple[Operation, ...]
    release: int = 0
    due: int | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Unavailability:
    """A window ``[start, end)`` during which nothing may run on ``machine``; ``pausable``: an
    operation (and its setup) may pause across it, else it may not span it."""

    machine: str
    start: int
    end: int
    pausable: bool = False


@dataclass(frozen=True, slots=True)
class FixedAssignment:
    """A started or frozen operation: it keeps this machine, start and end."""

    job: str
    operation: str
    machine: str
    start: int
    end: int


SetupMatrix = Mapping[tuple[str, str, str], int]


@dataclass(frozen=True, slots=True)
class Problem:
    jobs: tuple[Job, ...]
    machines: tuple[str, ...]
    setups: SetupMatrix = field(default_factory=dict)
    objective: tuple[Objective, ...] = (Objective.MAKESPAN,)
    horizon: int | None = None
    unavailability: tuple[Unavailability, ...] = ()
    fixed: tuple[FixedAssignment, ...] = ()

    def setup_time(self, machine: str, from_family: str | None, to_family: str | None) -> int:
        if from_family is None or to_family is None or not self.setups:
            return 0
        return self.setups.get((machine, from_family, to_family), 0)

    def fixed_by_key(self) -> dict[tuple[str, str], FixedAssignment]:
        return {(f.job, f.operation): f for f in self.fixed}


def structural_errors(problem: Problem) -> list[str]:
    """What makes a problem ill-formed (unknown machines, negative durations, duplicates...)."""
    errors: list[str] = []
    machines = set(problem.machines)
    if len(machines) != len(problem.machines):
        errors.append("duplicate machine ids")
    if not problem.objective:
        errors.append("no objective")
    job_ids: set[str] = set()
    op_keys: set[tuple[str, str]] = set()
    for job in problem.jobs:
        if job.id in job_ids:
            errors.append(f"duplicate job {job.id}")
        job_ids.add(job.id)
        if job.release < 0:
            errors.append(f"job {job.id}: negative release")
        if job.weight < 0:
            errors.append(f"job {job.id}: negative weight")
        if Objective.WEIGHTED_TARDINESS in problem.objective and job.due is None:
            errors.append(f"job {job.id}: weighted tardiness needs a due date")
        for op in job.operations:
            if (job.id, op.id) in op_keys:
                errors.append(f"job {job.id}: duplicate operation {op.id}")
            op_keys.add((job.id, op.id))
            if not op.options:
                errors.append(f"{job.id}/{op.id}: no option")
            for opt in op.options:
                if opt.machine not in machines:
                    errors.append(f"{job.id}/{op.id}: unknown machine {opt.machine}")
                if opt.duration < 1:
                    errors.append(f"{job.id}/{op.id}: duration on {opt.machine} is under one minute")
    for (machine, _, _), minutes in problem.setups.items():
        if machine not in machines:
            errors.append(f"setup on unknown machine {machine}")
        if minutes < 0:
            errors.append(f"negative setup on {machine}")
    for w in problem.unavailability:
        if w.machine not in machines:
            errors.append(f"window on unknown machine {w.machine}")
        if w.end < w.start:
            errors.append(f"window on {w.machine} ends before it starts")
    for f in problem.fixed:
        if (f.job, f.operation) not in op_keys:
            errors.append(f"fixed assignment for unknown operation {f.job}/{f.operation}")
        if f.machine not in machines:
            errors.append(f"fixed assignment on unknown machine {f.machine}")
        if f.end < f.start:
            errors.append(f"fixed assignment {f.job}/{f.operation} ends before it starts")
    if problem.horizon is not None and problem.horizon < 0:
        errors.append("negative horizon")
    return errors


@dataclass(frozen=True, slots=True)
class Assignment:
    job: str
    operation: str
    machine: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Solution:
    """A schedule and how good it is known to be.

    ``objective`` and ``best_bound`` refer to the primary (first) objective; ``objectives`` holds
    the value of every objective of the lexicographic list. ``gap = (objective − bound) / objective``
    (0 when both are 0), None without a solution.
    """

    assignments: tuple[Assignment, ...]
    status: Status
    objective: int | None = None
    best_bound: int | None = None
    gap: float | None = None
    objectives: tuple[int, ...] = ()
    wall_time_s: float = 0.0
    stats: Mapping[str, float | int | str] = field(default_factory=dict)


def relative_gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None:
        return None
    if objective <= 0:
        return 0.0 if bound >= objective else None
    return max(0.0, (objective - bound) / objective)


def makespan(assignments: Sequence[Assignment]) -> int:
    return max((a.end for a in assignments), default=0)


def weighted_tardiness(problem: Problem, assignments: Sequence[Assignment]) -> int:
    completion: dict[str, int] = {}
    for a in assignments:
        completion[a.job] = max(completion.get(a.job, 0), a.end)
    total = 0
    for job in problem.jobs:
        if job.due is not None and job.id in completion:
            total += job.weight * max(0, completion[job.id] - job.due)
    return total


def objective_value(problem: Problem, objective: Objective, assignments: Sequence[Assignment]) -> int:
    if objective is Objective.MAKESPAN:
        return makespan(assignments)
    return weighted_tardiness(problem, assignments)
