from __future__ import annotations

from services.scheduler.domain.model import (
    Assignment,
    FixedAssignment,
    Job,
    Objective,
    Operation,
    Option,
    Problem,
    Solution,
    Status,
    Unavailability,
)
from services.scheduler.domain.validator import check_solution, recompute_objectives, validate
from tests.unit.scheduler.factories import one_machine, single_op_job

TWO_STEP = Problem(
    jobs=(
        Job(
            "A",
            (
                Operation("cut", (Option("M1", 3), Option("M2", 5))),
                Operation("weld", (Option("M2", 2),)),
            ),
            release=1,
            due=5,
            weight=2,
        ),
        Job("B", (Operation("cut", (Option("M1", 4),)),), due=10, weight=1),
    ),
    machines=("M1", "M2"),
)
GOOD = [
    Assignment("A", "cut", "M1", 1, 4),
    Assignment("A", "weld", "M2", 4, 6),
    Assignment("B", "cut", "M1", 4, 8),
]


def kinds(problem: Problem, schedule: list[Assignment]) -> set[str]:
    return {v.kind for v in validate(problem, schedule)}


def test_accepts_a_feasible_schedule():
    assert validate(TWO_STEP, GOOD) == []


def test_recomputes_makespan_and_weighted_tardiness():
    values = recompute_objectives(TWO_STEP, GOOD)
    # A completes at 6, due 5, weight 2 -> 2; B completes at 8, due 10 -> 0.
    assert values == {Objective.MAKESPAN: 8, Objective.WEIGHTED_TARDINESS: 2}


def test_reports_a_missing_operation():
    assert kinds(TWO_STEP, GOOD[:2]) == {"missing"}


def test_reports_an_operation_scheduled_twice():
    assert "duplicate" in kinds(TWO_STEP, [*GOOD, GOOD[2]])


def test_reports_an_unknown_operation():
    assert "unknown" in kinds(TWO_STEP, [*GOOD, Assignment("C", "x", "M1", 20, 21)])


def test_reports_an_ineligible_machine():
    bad = [GOOD[0], Assignment("A", "weld", "M1", 8, 10), GOOD[2]]
    assert "machine" in kinds(TWO_STEP, bad)


def test_reports_a_wrong_duration_for_the_chosen_machine():
    bad = [Assignment("A", "cut", "M2", 1, 4), Assignment("A", "weld", "M2", 4, 6), GOOD[2]]
    assert kinds(TWO_STEP, bad) == {"duration"}


def test_reports_a_broken_job_precedence():
    bad = [GOOD[0], Assignment("A", "weld", "M2", 3, 5), GOOD[2]]
    assert kinds(TWO_STEP, bad) == {"precedence"}


def test_reports_a_start_before_the_release():
    bad = [Assignment("A", "cut", "M1", 0, 3), Assignment("A", "weld", "M2", 4, 6), GOOD[2]]
    assert kinds(TWO_STEP, bad) == {"release"}


def test_reports_two_operations_overlapping_on_a_machine():
    bad = [GOOD[0], GOOD[1], Assignment("B", "cut", "M1", 3, 7)]
    assert kinds(TWO_STEP, bad) == {"overlap"}


def test_reports_a_setup_too_short_between_families():
    problem = one_machine(
        [single_op_job("a", 2, family="red"), single_op_job("b", 2, family="blue")],
        setups={("M", "red", "blue"): 3},
    )
    tight = [Assignment("a", "O", "M", 0, 2), Assignment("b", "O", "M", 4, 6)]
    assert kinds(problem, tight) == {"setup"}
    assert validate(problem, [tight[0], Assignment("b", "O", "M", 5, 7)]) == []


def test_reports_work_or_setup_inside_an_unavailability_window():
    problem = one_machine(
        [single_op_job("a", 2, family="red"), single_op_job("b", 2, family="blue")],
        setups={("M", "red", "blue"): 3},
        unavailability=(Unavailability("M", 10, 12),),
    )
    inside = [Assignment("a", "O", "M", 0, 2), Assignment("b", "O", "M", 11, 13)]
    setup_inside = [Assignment("a", "O", "M", 0, 2), Assignment("b", "O", "M", 13, 15)]
    after = [Assignment("a", "O", "M", 0, 2), Assignment("b", "O", "M", 15, 17)]
    assert kinds(problem, inside) == {"unavailable"}
    assert kinds(problem, setup_inside) == {"unavailable"}
    assert validate(problem, after) == []


def test_reports_a_fixed_assignment_that_moved():
    problem = Problem(TWO_STEP.jobs, TWO_STEP.machines, fixed=(FixedAssignment("B", "cut", "M1", 0, 4),))
    kept = [
        Assignment("B", "cut", "M1", 0, 4),
        Assignment("A", "cut", "M1", 4, 7),
        Assignment("A", "weld", "M2", 7, 9),
    ]
    moved = [
        Assignment("B", "cut", "M1", 1, 5),
        Assignment("A", "cut", "M1", 5, 8),
        Assignment("A", "weld", "M2", 8, 10),
    ]
    assert validate(problem, kept) == []
    assert kinds(problem, moved) == {"fixed"}


def test_reports_work_past_the_horizon():
    problem = Problem(TWO_STEP.jobs, TWO_STEP.machines, horizon=7)
    assert kinds(problem, GOOD) == {"horizon"}


def test_reports_a_claimed_objective_that_does_not_match_the_schedule():
    lying = Solution(tuple(GOOD), Status.FEASIBLE, objective=7, best_bound=7, gap=0.0, objectives=(7,))
    assert {v.kind for v in check_solution(TWO_STEP, lying)} == {"objective"}


def test_reports_a_bound_above_the_schedule_value():
    lying = Solution(tuple(GOOD), Status.FEASIBLE, objective=8, best_bound=9, gap=0.0, objectives=(8,))
    assert {v.kind for v in check_solution(TWO_STEP, lying)} == {"bound"}


def test_counts_working_minutes_across_pausable_windows_and_keeps_ends_out_of_them():
    breaks = (Unavailability("M", 2, 5, pausable=True), Unavailability("M", 4, 6, pausable=True))
    problem = one_machine([single_op_job("a", 3)], unavailability=breaks)  # merged break [2, 6)
    assert validate(problem, [Assignment("a", "O", "M", 0, 7)]) == []  # 2 + 1 working minutes
    assert validate(problem, [Assignment("a", "O", "M", 6, 9)]) == []
    assert kinds(problem, [Assignment("a", "O", "M", 0, 8)]) == {"duration"}
    assert kinds(problem, [Assignment("a", "O", "M", 1, 6)]) == {"duration", "unavailable"}  # ends inside
    assert kinds(problem, [Assignment("a", "O", "M", 5, 8)]) == {"duration", "unavailable"}  # starts inside


def test_a_hard_window_may_not_be_spanned_even_between_pauses():
    windows = (Unavailability("M", 2, 4, pausable=True), Unavailability("M", 6, 7))
    problem = one_machine([single_op_job("a", 4)], unavailability=windows)
    assert kinds(problem, [Assignment("a", "O", "M", 1, 7)]) == {"unavailable"}  # meets [6, 7)
    assert validate(problem, [Assignment("a", "O", "M", 0, 6)]) == []  # [0, 2) + [4, 6)


def test_a_setup_counts_working_minutes_before_the_operation_across_pauses():
    problem = one_machine(
        [single_op_job("a", 2, family="red"), single_op_job("b", 1, family="blue")],
        setups={("M", "red", "blue"): 2},
        unavailability=(Unavailability("M", 3, 5, pausable=True), Unavailability("M", 9, 10)),
    )
    first = Assignment("a", "O", "M", 0, 2)
    assert validate(problem, [first, Assignment("b", "O", "M", 6, 7)]) == []  # setup minutes 2 and 5
    assert kinds(problem, [first, Assignment("b", "O", "M", 5, 6)]) == {"setup"}  # only minute 2 before
    assert validate(problem, [first, Assignment("b", "O", "M", 12, 13)]) == []  # setup [10, 12)
    assert kinds(problem, [first, Assignment("b", "O", "M", 11, 12)]) == {
        "unavailable"
    }  # setup meets [9, 10)
