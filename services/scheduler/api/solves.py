"""``/v1/scheduler/solves``: explicit problems solved by the workers, as jobs on a work queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.scheduler import handlers
from services.scheduler.api.schemas import (
    AssignmentList,
    AssignmentPublic,
    SolveAccepted,
    SolveCreate,
    SolveLinks,
    SolveList,
    SolveProblemSummary,
    SolvePublic,
    SolveStatusName,
    SolveTimings,
)
from services.scheduler.db import repositories as repo
from services.scheduler.db.tables import SolveRow, SolveStatus
from services.scheduler.settings import SchedulerSettings
from shared.web.app import RuntimeDep, SessionDep, UowDep
from shared.web.idempotency import CLIENT_HEADER, IdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import Conflict, NotFound, ValidationFailed

PREFIX = "/v1/scheduler/solves"
PageDep = Annotated[PageParams, Depends(page_params)]


def solve_url(solve_id: str) -> str:
    return f"{PREFIX}/{solve_id}"


def to_public(row: SolveRow) -> SolvePublic:
    url = solve_url(row.id)
    wall = row.wall_s
    return SolvePublic(
        id=row.id,
        status=row.status,
        progress=round(row.progress, 4),
        cancel_requested=row.cancel_requested,
        problem=SolveProblemSummary(
            jobs=row.jobs,
            operations=row.operations,
            machines=row.machines,
            objective=row.objectives,
            time_limit_s=row.time_limit_s,
            num_workers=row.num_workers,
        ),
        solver_status=row.solver_status,
        objective=row.objective,
        best_bound=row.best_bound,
        gap=row.gap,
        objective_values=row.objective_values,
        worker=row.worker_id,
        attempts=row.attempts,
        last_heartbeat_at=row.heartbeat_at,
        timings=SolveTimings(
            queued_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at, wall_s=wall
        ),
        statistics=row.statistics,
        error=row.error,
        links=SolveLinks(self=url, assignments=f"{url}/assignments", cancel=f"{url}/cancel"),
    )


def _settings(runtime: Any) -> SchedulerSettings:
    settings = runtime.settings
    assert isinstance(settings, SchedulerSettings)
    return settings


def _token(params: PageParams, *types: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The keyset a page token carries, converted by ``types``; a 422 for a foreign token."""
    after = params.after()
    if after is None:
        return None
    try:
        if len(after) != len(types):
            raise ValueError("wrong length")
        return tuple(t(v) for t, v in zip(types, after, strict=True))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.one("query.page_token", "not a page token of this list") from exc


router = APIRouter(prefix=PREFIX, tags=["scheduler"])


@router.post(
    "",
    status_code=202,
    operation_id="scheduler_create_solve",
    summary="Solve an explicit problem (what-if, benchmarks): queued for a worker",
    response_model=SolveAccepted,
    responses={202: {"headers": {"Location": {"description": "The solve", "schema": {"type": "string"}}}}},
)
async def create_solve(
    body: SolveCreate, request: Request, uow: UowDep, runtime: RuntimeDep, idem: IdempotencyDep
) -> Response:
    settings = _settings(runtime)
    handlers.check_solve(body, max_time_limit_s=settings.scheduler_max_time_limit_s)
    async with uow:

        async def work() -> SolveAccepted:
            solve = await handlers.submit_solve(
                uow,
                body,
                job_subject=settings.scheduler_job_subject,
                client=request.headers.get(CLIENT_HEADER),
            )
            return SolveAccepted(id=solve.id, status=solve.status)

        return await idem.execute(uow, work, status_code=202, headers=lambda r: {"Location": solve_url(r.id)})


@router.get("", operation_id="scheduler_list_solves", summary="Solves, newest first")
async def list_solves(
    session: SessionDep,
    page: PageDep,
    status: Annotated[SolveStatusName | None, Query(description="Only solves in this state")] = None,
) -> SolveList:
    after = _token(page, datetime.fromisoformat, str)
    rows = await repo.list_solves(
        session,
        status=status,
        after=after,
        limit=page.page_size + 1,
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    token = encode_token([rows[-1].created_at.isoformat(), rows[-1].id]) if more and rows else None
    return SolveList(items=[to_public(r) for r in rows], next_page_token=token)


@router.get("/{solve_id}", operation_id="scheduler_get_solve", summary="A solve: state, progress, result")
async def get_solve(solve_id: str, session: SessionDep) -> SolvePublic:
    row = await repo.get_solve(session, solve_id)
    if row is None:
        raise NotFound(f"no solve {solve_id!r}")
    return to_public(row)


@router.get(
    "/{solve_id}/assignments",
    operation_id="scheduler_list_solve_assignments",
    summary="The schedule of a solve, by machine then start (minutes from the problem's origin)",
)
async def list_solve_assignments(solve_id: str, session: SessionDep, page: PageDep) -> AssignmentList:
    row = await repo.get_solve(session, solve_id)
    if row is None:
        raise NotFound(f"no solve {solve_id!r}")
    if not SolveStatus(row.status).finished:
        raise Conflict(f"solve {solve_id} is {row.status}: its schedule is not there yet")
    after = _token(page, str, int, str, str)
    rows = await repo.list_assignments(
        session,
        solve_id,
        after=after,
        limit=page.page_size + 1,
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    last = rows[-1] if rows else None
    token = encode_token([last.machine, last.start, last.job, last.operation]) if more and last else None
    return AssignmentList(
        items=[
            AssignmentPublic(job=r.job, operation=r.operation, machine=r.machine, start=r.start, end=r.end)
            for r in rows
        ],
        next_page_token=token,
    )


@router.post(
    "/{solve_id}/cancel",
    operation_id="scheduler_cancel_solve",
    summary="Cancel a solve: a queued one at once, a running one within about a second",
)
async def cancel_solve(solve_id: str, uow: UowDep) -> SolvePublic:
    async with uow:
        row = await handlers.cancel_solve(uow, solve_id)
    return to_public(row)
