from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.domain.cpsat import SolverParams, solve
from services.scheduler.domain.dispatch import (
    Rule,
    best_dispatch,
    dispatch,
    improve_single_machine_tardiness,
    improve_weighted_tardiness,
)
from services.scheduler.domain.model import (
    FixedAssignment,
    Job,
    Objective,
    Operation,
    Option,
    Problem,
    Unavailability,
)
from services.scheduler.domain.validator import check_solution, recompute_objectives, validate
from tests.unit.scheduler.factories import FT06, job_shop, one_machine, single_op_job

MACHINES = ("A", "B", "C")
FAMILIES = ("red", "blue", None)


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n_jobs = draw(st.integers(1, 5))
    jobs = []
    for j in range(n_jobs):
        ops = []
        for k in range(draw(st.integers(1, 4))):
            machines = draw(st.lists(st.sampled_from(MACHINES), min_size=1, max_size=3, unique=True))
            options = tuple(Option(m, draw(st.integers(1, 9))) for m in machines)
            ops.append(Operation(f"O{k}", options, draw(st.sampled_from(FAMILIES))))
        jobs.append(
            Job(
                f"J{j}",
                tuple(ops),
                release=draw(st.integers(0, 10)),
                due=draw(st.integers(0, 40)),
                weight=draw(st.integers(1, 5)),
            )
        )
    setups = {
        (m, a, b): draw(st.integers(0, 6))
        for m in MACHINES
        for a, b in itertools.product(("red", "blue"), repeat=2)
        if a != b and draw(st.booleans())
    }
    # Fixed work: the first operation of some jobs, laid end to end per machine from time 0.
    fixed, clock = [], dict.fromkeys(MACHINES, 0)
    for job in jobs:
        if draw(st.booleans()):
            option = job.operations[0].options[0]
            start = clock[option.machine] + draw(st.integers(0, 3))
            fixed.append(
                FixedAssignment(job.id, job.operations[0].id, option.machine, start, start + option.duration)
            )
            clock[option.machine] = start + option.duration + 6  # room for any setup after it
    windows = []
    for m in MACHINES:
        t = clock[m] + draw(st.integers(0, 5))
        for _ in range(draw(st.integers(0, 2))):
            length = draw(st.integers(1, 8))
            windows.append(Unavailability(m, t, t + length))
            t += length + draw(st.integers(1, 12))
    objective = draw(st.sampled_from([Objective.MAKESPAN, Objective.WEIGHTED_TARDINESS]))
    return Problem(tuple(jobs), MACHINES, setups, (objective,), None, tuple(windows), tuple(fixed))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), rule=st.sampled_from(list(Rule)), noise=st.sampled_from([0.0, 0.5]))
def test_every_dispatching_rule_gives_a_schedule_the_validator_accepts(problem, rule, noise):
    assert validate(problem, dispatch(problem, rule, noise=noise, seed=3)) == []


def test_dispatching_ft06_by_most_work_remaining_is_close_to_the_optimum():
    schedule = best_dispatch(job_shop(FT06, 6))
    assert validate(job_shop(FT06, 6), schedule) == []
    assert 55 <= recompute_objectives(job_shop(FT06, 6), schedule)[Objective.MAKESPAN] <= 60


def test_earliest_due_date_sequences_jobs_by_due_date_on_one_machine():
    jobs = [single_op_job("late", 2, due=30), single_op_job("soon", 2, due=5), single_op_job("mid", 2, due=9)]
    schedule = dispatch(one_machine(jobs, Objective.WEIGHTED_TARDINESS), Rule.EDD)
    assert [a.job for a in sorted(schedule, key=lambda a: a.start)] == ["soon", "mid", "late"]


def brute_force_wt(p: list[int], w: list[int], d: list[int]) -> int:
    best = None
    for order in itertools.permutations(range(len(p))):
        t = total = 0
        for j in order:
            t += p[j]
            total += w[j] * max(0, t - d[j])
        best = total if best is None else min(best, total)
    assert best is not None
    return best


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_tardiness_local_search_finds_the_optimum_of_small_single_machine_instances(data):
    n = data.draw(st.integers(2, 7))
    p = data.draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    w = data.draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    d = data.draw(st.lists(st.integers(0, sum(p)), min_size=n, max_size=n))
    order = improve_single_machine_tardiness(p, w, d, list(range(n)), time_limit_s=0.2, max_rounds=200)
    assert sorted(order) == list(range(n))
    t = total = 0
    for j in order:
        t += p[j]
        total += w[j] * max(0, t - d[j])
    assert total == brute_force_wt(p, w, d)


def test_tardiness_improvement_keeps_the_schedule_valid_and_never_worse():
    jobs = [single_op_job(f"J{i}", 3 + (i * 5) % 11, weight=1 + i % 4, due=(i * 13) % 60) for i in range(15)]
    problem = one_machine(jobs, Objective.WEIGHTED_TARDINESS)
    start = dispatch(problem, Rule.EDD)
    better = improve_weighted_tardiness(problem, start, time_limit_s=0.3)
    assert validate(problem, better) == []
    before = recompute_objectives(problem, start)[Objective.WEIGHTED_TARDINESS]
    after = recompute_objectives(problem, better)[Objective.WEIGHTED_TARDINESS]
    assert after <= before


@st.composite
def problems_with_pauses(draw: st.DrawFn) -> Problem:
    """The problems above, some windows made pausable, plus calendar breaks anywhere."""
    base = draw(problems())
    windows = [
        Unavailability(w.machine, w.start, w.end, pausable=draw(st.booleans())) for w in base.unavailability
    ]
    fixed_spans = {(f.machine, f.start, f.end) for f in base.fixed}
    for m in MACHINES:
        t = draw(st.integers(0, 6))
        for _ in range(draw(st.integers(0, 4))):
            length = draw(st.integers(1, 10))
            if not any(fm == m and fs < t + length and t < fe for fm, fs, fe in fixed_spans):
                windows.append(Unavailability(m, t, t + length, pausable=True))
            t += length + draw(st.integers(1, 9))
    return Problem(base.jobs, base.machines, base.setups, base.objective, None, tuple(windows), base.fixed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems_with_pauses(), rule=st.sampled_from(list(Rule)), noise=st.sampled_from([0.0, 0.5]))
def test_dispatching_pauses_across_breaks_as_the_validator_counts_them(problem, rule, noise):
    assert validate(problem, dispatch(problem, rule, noise=noise, seed=3)) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems_with_pauses())
def test_the_dispatch_hint_is_a_solution_of_the_cp_sat_model(problem):
    # Every hinted variable fixed to its hint: CP-SAT must still find a solution (the hint is
    # complete and feasible), and what it returns passes the validator.
    params = SolverParams(
        time_limit_s=1.0,
        num_workers=1,
        dispatch_restarts=0,
        cp_sat_parameters={"fix_variables_to_their_hinted_value": True},
    )
    solution = solve(problem, params)
    assert solution.stats["level0_status"] in ("OPTIMAL", "FEASIBLE"), solution.stats
    assert "level0_rejected" not in solution.stats
    assert check_solution(problem, solution) == []
