from __future__ import annotations

import pytest

from services.scheduler.domain.cpsat import InvalidProblemError, Progress, SolverParams, solve
from services.scheduler.domain.model import (
    FixedAssignment,
    Job,
    Objective,
    Operation,
    Option,
    Problem,
    Status,
    Unavailability,
)
from services.scheduler.domain.validator import check_solution
from tests.unit.scheduler.factories import FT06, job_shop, one_machine, single_op_job

FAST = SolverParams(time_limit_s=2.0, num_workers=2)


def solved(problem: Problem, params: SolverParams = FAST):
    solution = solve(problem, params)
    assert check_solution(problem, solution) == []
    return solution


def starts(solution) -> dict[str, int]:
    return {a.job: a.start for a in solution.assignments}


def test_solves_ft06_to_its_optimum_of_55_and_proves_it():
    progress: list[Progress] = []
    solution = solve(job_shop(FT06, 6), FAST, progress.append)
    assert check_solution(job_shop(FT06, 6), solution) == []
    assert (solution.objective, solution.best_bound, solution.status) == (55, 55, Status.OPTIMAL)
    assert solution.gap == 0.0
    assert solution.wall_time_s < 2.5
    assert all(p.best_bound <= p.objective for p in progress)


def test_puts_flexible_operations_on_the_machines_that_balance_the_load():
    # Two machines; four jobs of 3, 3, 2, 2 minutes that may run on either: 5 is optimal.
    jobs = [
        Job(f"J{i}", (Operation("O", (Option("A", d), Option("B", d))),)) for i, d in enumerate([3, 3, 2, 2])
    ]
    solution = solved(Problem(tuple(jobs), ("A", "B")))
    assert (solution.objective, solution.status) == (5, Status.OPTIMAL)


def test_prefers_the_faster_alternative_machine_when_it_finishes_earlier():
    job = Job("J", (Operation("O", (Option("slow", 9), Option("fast", 4))),))
    solution = solved(Problem((job,), ("slow", "fast")))
    assert [(a.machine, a.start, a.end) for a in solution.assignments] == [("fast", 0, 4)]


def test_minimises_weighted_tardiness_on_one_machine_to_the_hand_computed_optimum():
    # p = 4, 3, 2, 5; w = 1, 3, 2, 1; d = 4, 5, 6, 9. Order 2, 3, 1, 4 completes at 3, 5, 9, 14:
    # tardiness 0 + 0 + 1·(9−4) + 1·(14−9) = 10, and no order does better (checked by hand on
    # the 24 orders: the two heavy jobs must go first, then 1 before 4).
    jobs = [
        single_op_job("1", 4, weight=1, due=4),
        single_op_job("2", 3, weight=3, due=5),
        single_op_job("3", 2, weight=2, due=6),
        single_op_job("4", 5, weight=1, due=9),
    ]
    solution = solved(one_machine(jobs, Objective.WEIGHTED_TARDINESS))
    assert (solution.objective, solution.status, solution.gap) == (10, Status.OPTIMAL, 0.0)
    order = [a.job for a in sorted(solution.assignments, key=lambda a: a.start)]
    assert order[2:] == ["1", "4"]


def test_groups_families_to_save_sequence_dependent_setups():
    # red, blue, red of 3 minutes each; 10 minutes to switch colour: one switch, 3+3+10+3 = 19.
    jobs = [
        single_op_job("r1", 3, family="red"),
        single_op_job("b", 3, family="blue"),
        single_op_job("r2", 3, family="red"),
    ]
    setups = {("M", "red", "blue"): 10, ("M", "blue", "red"): 10}
    solution = solved(one_machine(jobs, setups=setups))
    assert (solution.objective, solution.status) == (19, Status.OPTIMAL)
    order = [a.job for a in sorted(solution.assignments, key=lambda a: a.start)]
    assert order.index("b") in (0, 2)


def test_never_starts_a_job_before_its_release():
    jobs = [single_op_job("early", 4), single_op_job("late", 5, release=10)]
    solution = solved(one_machine(jobs))
    assert starts(solution)["late"] >= 10
    assert solution.objective == 15


def test_runs_nothing_during_an_unavailability_window_and_never_spans_it():
    # Window [2, 6): the 2-minute job fits before it, the 3-minute one must wait: makespan 9.
    jobs = [single_op_job("short", 2), single_op_job("long", 3)]
    solution = solved(one_machine(jobs, unavailability=(Unavailability("M", 2, 6),)))
    assert (solution.objective, solution.status) == (9, Status.OPTIMAL)
    assert starts(solution) == {"short": 0, "long": 6}


def test_keeps_the_setup_itself_out_of_unavailability_windows():
    # red 3 min, blue 1 min, 2 min setup red->blue, window [3, 5). Red [0, 3) then the setup
    # cannot run in [3, 5): blue at 7 (setup [5, 7)). Any other order is later. Optimum 8.
    jobs = [single_op_job("red", 3, family="red"), single_op_job("blue", 1, family="blue")]
    problem = one_machine(
        jobs,
        setups={("M", "red", "blue"): 2, ("M", "blue", "red"): 2},
        unavailability=(Unavailability("M", 3, 5),),
    )
    solution = solved(problem)
    assert (solution.objective, solution.status) == (8, Status.OPTIMAL)
    assert starts(solution) == {"red": 0, "blue": 7}


def test_keeps_fixed_assignments_where_they_are():
    problem = job_shop(FT06, 6)
    frozen = FixedAssignment("J1", "O0", "M1", 20, 28)  # a poor place, but it has started there
    problem = Problem(problem.jobs, problem.machines, fixed=(frozen,))
    solution = solved(problem)
    kept = next(a for a in solution.assignments if (a.job, a.operation) == ("J1", "O0"))
    assert (kept.machine, kept.start, kept.end) == ("M1", 20, 28)
    assert solution.objective >= 55


def test_keeps_fixed_work_on_a_machine_with_setups():
    jobs = [
        single_op_job("r1", 3, family="red"),
        single_op_job("b", 3, family="blue"),
        single_op_job("r2", 3, family="red"),
    ]
    problem = one_machine(
        jobs,
        setups={("M", "red", "blue"): 10, ("M", "blue", "red"): 10},
        fixed=(FixedAssignment("b", "O", "M", 0, 3),),
    )
    solution = solved(problem)
    # blue is running from 0 to 3; both reds follow after one setup: 3 + 10 + 3 + 3 = 19.
    assert (solution.objective, solution.status) == (19, Status.OPTIMAL)


def test_reports_infeasible_when_the_horizon_is_too_short():
    problem = Problem(one_machine([single_op_job("a", 5), single_op_job("b", 5)]).jobs, ("M",), horizon=8)
    solution = solve(problem, FAST)
    assert solution.status is Status.INFEASIBLE
    assert solution.assignments == ()
    assert solution.objective is None
    assert solution.gap is None


def test_reports_an_honest_gap_when_time_runs_out_before_a_proof():
    # 30 jobs on one machine, tardiness: the bound is weak, the solver cannot prove in 0.3 s.
    jobs = [single_op_job(f"J{i}", 5 + (i * 7) % 23, weight=1 + i % 5, due=10 * i % 170) for i in range(30)]
    problem = one_machine(jobs, Objective.WEIGHTED_TARDINESS)
    solution = solved(problem, SolverParams(time_limit_s=0.5, num_workers=1))
    assert solution.status is Status.FEASIBLE
    assert solution.best_bound is not None
    assert solution.objective is not None
    assert solution.best_bound < solution.objective
    assert solution.gap == pytest.approx((solution.objective - solution.best_bound) / solution.objective)


def test_orders_lexicographic_objectives_tardiness_first_then_makespan():
    # Both jobs on time whatever the order; the makespan level then removes the idle wait.
    jobs = [single_op_job("a", 2, due=20), single_op_job("b", 3, due=20, release=1)]
    problem = Problem(tuple(jobs), ("M",), objective=(Objective.WEIGHTED_TARDINESS, Objective.MAKESPAN))
    solution = solved(problem)
    assert solution.objectives == (0, 5)
    assert solution.status is Status.OPTIMAL


def test_rejects_a_problem_with_an_unknown_machine():
    problem = Problem((single_op_job("a", 2, machine="ghost"),), ("M",))
    with pytest.raises(InvalidProblemError, match="unknown machine"):
        solve(problem, FAST)


# -- pausable windows (a machine's calendar breaks) ---------------------------------------------


def test_an_operation_pauses_across_a_pausable_window_but_never_spans_a_hard_one():
    job = [single_op_job("long", 5)]
    hard = solved(one_machine(job, unavailability=(Unavailability("M", 2, 6),)))
    assert [(a.start, a.end) for a in hard.assignments] == [(6, 11)]
    paused = solved(one_machine(job, unavailability=(Unavailability("M", 2, 6, pausable=True),)))
    assert [(a.start, a.end) for a in paused.assignments] == [(0, 9)]  # 2 minutes, pause 4, 3 minutes
    assert paused.status is Status.OPTIMAL
    # A hard window after a pause: [0, 2) + [4, 7) would meet [6, 7); so does any start before 7.
    both = (Unavailability("M", 2, 4, pausable=True), Unavailability("M", 6, 7))
    mixed = solved(one_machine(job, unavailability=both))
    assert ([(a.start, a.end) for a in mixed.assignments], mixed.status) == ([(7, 12)], Status.OPTIMAL)


def test_operations_pausing_on_one_machine_do_not_interleave():
    # Two 4-minute jobs, breaks [2, 5) and [7, 10): one runs [0, 2)+[5, 7), the other after the
    # second break (it cannot start inside [0, 7), which the first occupies): makespan 14.
    jobs = [single_op_job("a", 4), single_op_job("b", 4)]
    breaks = (Unavailability("M", 2, 5, pausable=True), Unavailability("M", 7, 10, pausable=True))
    solution = solved(one_machine(jobs, unavailability=breaks))
    assert (solution.objective, solution.status) == (14, Status.OPTIMAL)
    assert sorted((a.start, a.end) for a in solution.assignments) == [(0, 7), (10, 14)]


def test_a_setup_pauses_with_its_operation_across_a_pausable_window():
    # red 2 min, then a 2-minute setup to blue (1 min). Break [3, 5): setup minutes 2 and 5,
    # blue [6, 7) -> 7; were the break hard, the setup would wait for it: blue [7, 8).
    jobs = [single_op_job("red", 2, family="red"), single_op_job("blue", 1, family="blue")]
    setups = {("M", "red", "blue"): 2, ("M", "blue", "red"): 9}
    paused = solved(one_machine(jobs, setups=setups, unavailability=(Unavailability("M", 3, 5, True),)))
    assert (paused.objective, paused.status, starts(paused)) == (7, Status.OPTIMAL, {"red": 0, "blue": 6})
    hard = solved(one_machine(jobs, setups=setups, unavailability=(Unavailability("M", 3, 5),)))
    assert (hard.objective, starts(hard)) == (8, {"red": 0, "blue": 7})


def test_a_flexible_operation_chooses_between_machines_with_different_breaks():
    # 6 minutes on A (break [1, 9) pausable: ends at 14) or 8 on B (no break: ends at 8).
    job = Job("J", (Operation("O", (Option("A", 6), Option("B", 8))),))
    problem = Problem((job,), ("A", "B"), unavailability=(Unavailability("A", 1, 9, pausable=True),))
    solution = solved(problem)
    assert [(a.machine, a.start, a.end) for a in solution.assignments] == [("B", 0, 8)]
    slow_b = Problem(
        (Job("J", (Operation("O", (Option("A", 6), Option("B", 20))),)),),
        ("A", "B"),
        unavailability=(Unavailability("A", 1, 9, pausable=True),),
    )
    assert [(a.machine, a.start, a.end) for a in solved(slow_b).assignments] == [("A", 0, 14)]
