"""The peer of PROTOCOL.md: a plain CP-SAT model with default parameters.

Fixed-size intervals, one no-overlap per machine, job-chain precedences, makespan as a max; for
flexible instances one start per operation with optional intervals per eligible machine and
exactly-one; for tardiness one no-overlap, ``T ≥ C − d`` and an EDD hint. Only workers and the
time limit are set.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

from ortools.sat.python import cp_model

from services.scheduler.domain.model import (
    Assignment,
    Objective,
    Problem,
    Solution,
    Status,
    relative_gap,
)

_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
}


def solve_plain(problem: Problem, time_limit_s: float, num_workers: int = 2) -> Solution:
    started = time.monotonic()
    model = cp_model.CpModel()
    horizon = sum(max(o.duration for o in op.options) for job in problem.jobs for op in job.operations)
    horizon += max([0] + [j.release for j in problem.jobs])
    per_machine: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    starts: dict[tuple[str, str], cp_model.IntVar] = {}
    ends: dict[tuple[str, str], cp_model.IntVar] = {}
    choice: dict[tuple[str, str], list[tuple[str, cp_model.IntVar | None]]] = {}
    for job in problem.jobs:
        previous_end: cp_model.IntVar | None = None
        for op in job.operations:
            key = (job.id, op.id)
            start = model.new_int_var(job.release, horizon, f"s{key}")
            end = model.new_int_var(0, horizon, f"e{key}")
            if len(op.options) == 1:
                option = op.options[0]
                model.add(end == start + option.duration)
                per_machine[option.machine].append(
                    model.new_fixed_size_interval_var(start, option.duration, f"i{key}")
                )
                choice[key] = [(option.machine, None)]
            else:
                literals = []
                choice[key] = []
                for option in op.options:
                    lit = model.new_bool_var(f"x{key}{option.machine}")
                    literals.append(lit)
                    per_machine[option.machine].append(
                        model.new_optional_fixed_size_interval_var(start, option.duration, lit, f"i{key}")
                    )
                    model.add(end == start + option.duration).only_enforce_if(lit)
                    choice[key].append((option.machine, lit))
                model.add_exactly_one(literals)
            if previous_end is not None:
                model.add(start >= previous_end)
            starts[key], ends[key] = start, end
            previous_end = end
    for intervals in per_machine.values():
        model.add_no_overlap(intervals)
    last = {job.id: ends[(job.id, job.operations[-1].id)] for job in problem.jobs}
    if problem.objective[0] is Objective.MAKESPAN:
        makespan = model.new_int_var(0, horizon, "makespan")
        model.add_max_equality(makespan, list(last.values()))
        model.minimize(makespan)
    else:
        terms = []
        for job in problem.jobs:
            t = model.new_int_var(0, horizon, f"T{job.id}")
            model.add(t >= last[job.id] - (job.due or 0))
            terms.append(job.weight * t)
        model.minimize(sum(terms))
        clock = 0  # EDD hint (one machine, one operation per job)
        for job in sorted(problem.jobs, key=lambda j: j.due or 0):
            op = job.operations[0]
            model.add_hint(starts[(job.id, op.id)], clock)
            clock += op.options[0].duration
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = num_workers
    solver.parameters.max_time_in_seconds = time_limit_s
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solution((), _STATUS.get(status, Status.UNKNOWN), wall_time_s=time.monotonic() - started)
    out = []
    for key, options in choice.items():
        machine = next(m for m, lit in options if lit is None or solver.boolean_value(lit))
        out.append(Assignment(key[0], key[1], machine, solver.value(starts[key]), solver.value(ends[key])))
    value = round(solver.objective_value)
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    return Solution(
        assignments=tuple(out),
        status=_STATUS[status],
        objective=value,
        best_bound=bound,
        gap=relative_gap(value, bound),
        objectives=(value,),
        wall_time_s=time.monotonic() - started,
    )
