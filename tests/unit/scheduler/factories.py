"""Small problems for the scheduler tests, written out by hand."""

from __future__ import annotations

from collections.abc import Sequence

from services.scheduler.domain.model import Job, Objective, Operation, Option, Problem

# Fisher & Thompson 6x6 (ft06): per job, (machine, duration) in route order. Optimum 55.
FT06 = [
    [(2, 1), (0, 3), (1, 6), (3, 7), (5, 3), (4, 6)],
    [(1, 8), (2, 5), (4, 10), (5, 10), (0, 10), (3, 4)],
    [(2, 5), (3, 4), (5, 8), (0, 9), (1, 1), (4, 7)],
    [(1, 5), (0, 5), (2, 5), (3, 3), (4, 8), (5, 9)],
    [(2, 9), (1, 3), (4, 5), (5, 4), (0, 3), (3, 1)],
    [(1, 3), (3, 3), (5, 9), (0, 10), (4, 4), (2, 1)],
]


def job_shop(routes: Sequence[Sequence[tuple[int, int]]], machines: int) -> Problem:
    jobs = tuple(
        Job(f"J{j}", tuple(Operation(f"O{k}", (Option(f"M{m}", d),)) for k, (m, d) in enumerate(route)))
        for j, route in enumerate(routes)
    )
    return Problem(jobs, tuple(f"M{i}" for i in range(machines)))


def single_op_job(
    job_id: str,
    duration: int,
    *,
    machine: str = "M",
    due: int | None = None,
    weight: int = 1,
    release: int = 0,
    family: str | None = None,
) -> Job:
    return Job(
        job_id,
        (Operation("O", (Option(machine, duration),), family),),
        release=release,
        due=due,
        weight=weight,
    )


def one_machine(jobs: Sequence[Job], objective: Objective = Objective.MAKESPAN, **kwargs: object) -> Problem:
    return Problem(tuple(jobs), ("M",), objective=(objective,), **kwargs)  # type: ignore[arg-type]
