"""An independent feasibility checker for schedules.

It shares only the data classes with the rest of the package: every rule is re-implemented here
from the written semantics (see ``model``'s module docstring), so a bug in the solver's model is
not repeated in its checker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from services.scheduler.domain.model import Assignment, Objective, Problem, Solution


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str
    message: str


def validate(problem: Problem, assignments: Sequence[Assignment]) -> list[Violation]:
    """Every broken rule of ``assignments`` for ``problem``; an empty list means feasible."""
    out: list[Violation] = []

    def bad(kind: str, message: str) -> None:
        out.append(Violation(kind, message))

    ops = {(job.id, op.id): (job, op) for job in problem.jobs for op in job.operations}
    fixed = {(f.job, f.operation): f for f in problem.fixed}
    # Pausable windows (merged) and hard ones, per machine.
    pauses: dict[str, list[tuple[int, int]]] = defaultdict(list)
    windows: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for w in problem.unavailability:
        if w.end > w.start:
            (pauses if w.pausable else windows)[w.machine].append((w.start, w.end))
    for machine, spans in pauses.items():
        merged: list[tuple[int, int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        pauses[machine] = merged
    placed: dict[tuple[str, str], Assignment] = {}
    for a in assignments:
        key = (a.job, a.operation)
        if key not in ops:
            bad("unknown", f"{a.job}/{a.operation} is not an operation of the problem")
            continue
        if key in placed:
            bad("duplicate", f"{a.job}/{a.operation} is scheduled more than once")
            continue
        placed[key] = a
    for key in ops:
        if key not in placed:
            bad("missing", f"{key[0]}/{key[1]} is not scheduled")

    # One eligible machine with its duration; fixed assignments kept exactly.
    for key, a in placed.items():
        job, op = ops[key]
        f = fixed.get(key)
        if f is not None:
            if (a.machine, a.start, a.end) != (f.machine, f.start, f.end):
                bad(
                    "fixed",
                    f"{a.job}/{a.operation} must stay on {f.machine} [{f.start}, {f.end}), "
                    f"got {a.machine} [{a.start}, {a.end})",
                )
            continue
        durations = [o.duration for o in op.options if o.machine == a.machine]
        worked = a.end - a.start - _inside(pauses.get(a.machine, []), a.start, a.end)
        if not durations:
            bad("machine", f"{a.job}/{a.operation} runs on ineligible machine {a.machine}")
        elif worked not in durations:
            bad(
                "duration",
                f"{a.job}/{a.operation} works {worked} minutes in [{a.start}, {a.end}) on {a.machine}, "
                f"expected {durations}",
            )
        for ws, we in pauses.get(a.machine, []):
            if ws <= a.start < we or ws < a.end <= we:
                bad(
                    "unavailable",
                    f"{a.job}/{a.operation} [{a.start}, {a.end}) starts or ends inside the break "
                    f"[{ws}, {we}) of {a.machine}",
                )
        if a.start < 0:
            bad("horizon", f"{a.job}/{a.operation} starts before 0")
        if problem.horizon is not None and a.end > problem.horizon:
            bad("horizon", f"{a.job}/{a.operation} ends at {a.end} after the horizon {problem.horizon}")
        if a.start < job.release:
            bad("release", f"{a.job}/{a.operation} starts at {a.start} before release {job.release}")

    # Precedence within a job.
    for job in problem.jobs:
        for before, after in zip(job.operations, job.operations[1:], strict=False):
            first = placed.get((job.id, before.id))
            second = placed.get((job.id, after.id))
            if first is None or second is None:
                continue
            if (job.id, before.id) in fixed and (job.id, after.id) in fixed:
                continue
            if second.start < first.end:
                bad(
                    "precedence",
                    f"{job.id}/{after.id} starts at {second.start} before {job.id}/{before.id} "
                    f"ends at {first.end}",
                )

    # Machines: no overlap, setups before the next operation, unavailability windows.
    family = {key: op.family for key, (_, op) in ops.items()}
    by_machine: dict[str, list[Assignment]] = defaultdict(list)
    for a in placed.values():
        by_machine[a.machine].append(a)
    for machine, items in by_machine.items():
        items.sort(key=lambda x: (x.start, x.end))
        previous: Assignment | None = None
        for a in items:
            a_fixed = (a.job, a.operation) in fixed
            setup = 0
            if previous is not None:
                both_fixed = a_fixed and (previous.job, previous.operation) in fixed
                from_family = family[(previous.job, previous.operation)]
                to_family = family[(a.job, a.operation)]
                if from_family is not None and to_family is not None:
                    setup = problem.setups.get((machine, from_family, to_family), 0)
                # The setup's minutes: the last `setup` working minutes before the start.
                busy_from = a.start - setup if a_fixed else _back(pauses.get(machine, []), a.start, setup)
                if not both_fixed and busy_from < previous.end:
                    what = "overlaps" if a.start < previous.end else "leaves too little setup after"
                    other = f"{previous.job}/{previous.operation} [{previous.start}, {previous.end})"
                    bad(
                        "overlap" if a.start < previous.end else "setup",
                        f"{a.job}/{a.operation} [{a.start}, {a.end}) {what} {other} on {machine}, "
                        f"setup {setup}",
                    )
            if not a_fixed:
                busy_from = _back(pauses.get(machine, []), a.start, setup)
                for ws, we in windows.get(machine, []):
                    if busy_from < we and ws < a.end:
                        bad(
                            "unavailable",
                            f"{a.job}/{a.operation} (with setup) [{busy_from}, {a.end}) meets "
                            f"window [{ws}, {we}) on {machine}",
                        )
            if previous is None or a.end >= previous.end:
                previous = a
    return out


def _inside(pauses: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """Minutes of ``[start, end)`` inside the (merged) pausable windows."""
    return sum(max(0, min(end, we) - max(start, ws)) for ws, we in pauses)


def _back(pauses: Sequence[tuple[int, int]], start: int, minutes: int) -> int:
    """The first of the last ``minutes`` working minutes before ``start`` (``start`` if 0), walking
    back across the (merged, sorted) pausable windows."""
    t = start
    for ws, we in reversed(pauses):
        if minutes <= 0:
            break
        if ws >= t:
            continue
        if we < t:  # the working stretch [we, t)
            take = min(minutes, t - we)
            t -= take
            minutes -= take
            if minutes == 0:
                break
        t = ws
    return t - minutes


def recompute_objectives(problem: Problem, assignments: Sequence[Assignment]) -> dict[Objective, int]:
    """Makespan and total weighted tardiness of a schedule, computed from scratch."""
    completion: dict[str, int] = {}
    latest = 0
    for a in assignments:
        latest = max(latest, a.end)
        completion[a.job] = max(completion.get(a.job, a.end), a.end)
    tardiness = 0
    for job in problem.jobs:
        if job.due is None or job.id not in completion:
            continue
        late = completion[job.id] - job.due
        if late > 0:
            tardiness += job.weight * late
    return {Objective.MAKESPAN: latest, Objective.WEIGHTED_TARDINESS: tardiness}


def check_solution(problem: Problem, solution: Solution) -> list[Violation]:
    """Feasibility of the solution's schedule, and whether its claimed objective values are true."""
    if not solution.assignments:
        return []
    out = validate(problem, solution.assignments)
    values = recompute_objectives(problem, solution.assignments)
    claimed = list(zip(problem.objective, solution.objectives, strict=False))
    if solution.objective is not None:
        claimed.append((problem.objective[0], solution.objective))
    for objective, value in claimed:
        if values[objective] != value:
            out.append(
                Violation("objective", f"claimed {objective} = {value}, recomputed {values[objective]}")
            )
    if (
        solution.best_bound is not None
        and solution.objective is not None
        and solution.best_bound > values[problem.objective[0]]
    ):
        out.append(Violation("bound", f"bound {solution.best_bound} above the schedule's value"))
    return out
