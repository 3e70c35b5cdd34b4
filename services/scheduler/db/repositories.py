"""All SQL of the scheduler's solves: the API's reads and writes and the workers' claims.

A worker's writes are *fenced* by the attempt it claimed: an update names ``attempts = <mine>``, so
a worker whose job was taken over (after it stalled past ``ack_wait``) can no longer touch it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, literal, or_, select, tuple_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.db.tables import (
    SolveAssignmentRow,
    SolveProblemRow,
    SolveRow,
    SolveStatus,
)
from shared.db.platform import utcnow

ASSIGNMENT_BATCH = 5000


# -- the API's side -----------------------------------------------------------------------------


async def add_solve(session: AsyncSession, solve: SolveRow, problem: dict[str, Any]) -> None:
    session.add(solve)
    await session.flush()
    session.add(SolveProblemRow(solve_id=solve.id, problem=problem))


async def get_solve(session: AsyncSession, solve_id: str, *, for_update: bool = False) -> SolveRow | None:
    query = select(SolveRow).where(col(SolveRow.id) == solve_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_solves(
    session: AsyncSession,
    *,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[SolveRow]:
    """Newest first (``created_at``, ``id`` descending), after the keyset ``after``."""
    query = select(SolveRow)
    if status is not None:
        query = query.where(col(SolveRow.status) == status)
    if after is not None:
        created, sid = after
        query = query.where(
            or_(
                col(SolveRow.created_at) < created,
                and_(col(SolveRow.created_at) == created, col(SolveRow.id) < sid),
            )
        )
    query = query.order_by(col(SolveRow.created_at).desc(), col(SolveRow.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def list_assignments(
    session: AsyncSession, solve_id: str, *, after: tuple[str, int, str, str] | None, limit: int
) -> list[SolveAssignmentRow]:
    """By machine, then start (then job and operation, to make the order total)."""
    key = tuple_(
        col(SolveAssignmentRow.machine),
        col(SolveAssignmentRow.start),
        col(SolveAssignmentRow.job),
        col(SolveAssignmentRow.operation),
    )
    query = select(SolveAssignmentRow).where(col(SolveAssignmentRow.solve_id) == solve_id)
    if after is not None:
        query = query.where(key > tuple_(*(literal(v) for v in after)))
    query = query.order_by(
        col(SolveAssignmentRow.machine),
        col(SolveAssignmentRow.start),
        col(SolveAssignmentRow.job),
        col(SolveAssignmentRow.operation),
    ).limit(limit)
    return list((await session.execute(query)).scalars().all())


# -- the workers' side --------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a worker holds while it runs attempt ``attempt`` of a solve."""

    solve_id: str
    attempt: int
    problem: dict[str, Any]
    time_limit_s: float
    num_workers: int | None


async def get_problem(session: AsyncSession, solve_id: str) -> dict[str, Any] | None:
    row = await session.get(SolveProblemRow, solve_id)
    return None if row is None else dict(row.problem)


async def start_attempt(session: AsyncSession, solve: SolveRow, worker_id: str) -> int:
    """Mark ``solve`` (locked) running by ``worker_id``; returns the new attempt number."""
    now = utcnow()
    solve.status = SolveStatus.RUNNING
    solve.attempts += 1
    solve.worker_id = worker_id
    solve.started_at = now
    solve.heartbeat_at = now
    solve.progress = 0.0
    solve.finished_at = None
    solve.error = None
    session.add(solve)
    return solve.attempts


async def record_progress(
    session: AsyncSession,
    solve_id: str,
    attempt: int,
    *,
    progress: float,
    objective: int | None,
    best_bound: int | None,
    gap: float | None,
) -> bool | None:
    """Write a running attempt's progress and heartbeat. Returns its cancel flag, or None when the
    attempt is no longer the solve's current running one (taken over, or finished)."""
    values: dict[str, Any] = {"progress": progress, "heartbeat_at": utcnow()}
    if objective is not None:
        values.update(objective=objective, best_bound=best_bound, gap=gap)
    result = await session.execute(
        update(SolveRow)
        .where(
            col(SolveRow.id) == solve_id,
            col(SolveRow.attempts) == attempt,
            col(SolveRow.status) == SolveStatus.RUNNING,
        )
        .values(**values)
        .returning(col(SolveRow.cancel_requested))
    )
    row = result.first()
    return None if row is None else bool(row[0])


async def lock_attempt(session: AsyncSession, solve_id: str, attempt: int) -> SolveRow | None:
    """The solve, locked, if ``attempt`` is still its current running attempt."""
    solve = await get_solve(session, solve_id, for_update=True)
    if solve is None or solve.attempts != attempt or solve.status != SolveStatus.RUNNING:
        return None
    return solve


async def replace_assignments(
    session: AsyncSession, solve_id: str, assignments: Sequence[dict[str, Any]]
) -> None:
    await session.execute(delete(SolveAssignmentRow).where(col(SolveAssignmentRow.solve_id) == solve_id))
    for i in range(0, len(assignments), ASSIGNMENT_BATCH):
        batch = [{"solve_id": solve_id, **a} for a in assignments[i : i + ASSIGNMENT_BATCH]]
        await session.execute(insert(SolveAssignmentRow), batch)
