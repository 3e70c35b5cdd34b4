"""All SQL of the capacity service: analyses, their inputs and results (bulk-copied), and reads.

A runner's writes are *fenced* by the attempt it claimed (``attempts = <mine>``): a runner whose
analysis was taken over after its heartbeat went stale can no longer touch it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, literal, or_, select, text, tuple_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.capacity.db.tables import (
    AnalysisInputRow,
    AnalysisOperationRow,
    AnalysisRow,
    AnalysisStatus,
    LoadCellRow,
    OverloadRow,
    ProposalRow,
)
from shared.db.engine import copy_rows as copy_records
from shared.db.platform import utcnow

# -- analyses ---------------------------------------------------------------------------------------


async def add_analysis(session: AsyncSession, row: AnalysisRow, snapshot: dict[str, Any] | None) -> None:
    session.add(row)
    await session.flush()
    if snapshot is not None:
        session.add(AnalysisInputRow(analysis_id=row.id, snapshot=snapshot))


async def get_analysis(
    session: AsyncSession, analysis_id: str, *, for_update: bool = False
) -> AnalysisRow | None:
    query = select(AnalysisRow).where(col(AnalysisRow.id) == analysis_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_analyses(
    session: AsyncSession, *, status: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[AnalysisRow]:
    """Newest first."""
    query = select(AnalysisRow)
    if status is not None:
        query = query.where(col(AnalysisRow.status) == status)
    if after is not None:
        created, aid = after
        query = query.where(
            or_(
                col(AnalysisRow.created_at) < created,
                and_(col(AnalysisRow.created_at) == created, col(AnalysisRow.id) < aid),
            )
        )
    query = query.order_by(col(AnalysisRow.created_at).desc(), col(AnalysisRow.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def claim(session: AsyncSession, analysis_id: str) -> int | None:
    """Take a queued analysis: running, one more attempt. The attempt number, or None if taken."""
    result = await session.execute(
        update(AnalysisRow)
        .where(col(AnalysisRow.id) == analysis_id, col(AnalysisRow.status) == AnalysisStatus.QUEUED)
        .values(
            status=AnalysisStatus.RUNNING,
            attempts=col(AnalysisRow.attempts) + 1,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            progress=0.0,
        )
        .returning(col(AnalysisRow.attempts))
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)


async def progress(session: AsyncSession, analysis_id: str, attempt: int, value: float) -> bool:
    result = await session.execute(
        update(AnalysisRow)
        .where(
            col(AnalysisRow.id) == analysis_id,
            col(AnalysisRow.attempts) == attempt,
            col(AnalysisRow.status) == AnalysisStatus.RUNNING,
        )
        .values(progress=value, heartbeat_at=utcnow())
        .returning(col(AnalysisRow.id))
    )
    return result.scalar_one_or_none() is not None


async def requeue_stale(session: AsyncSession, stale_after_s: float) -> int:
    """Running analyses whose runner stopped beating go back to the queue."""
    result = await session.execute(
        update(AnalysisRow)
        .where(
            col(AnalysisRow.status) == AnalysisStatus.RUNNING,
            col(AnalysisRow.heartbeat_at) < utcnow() - timedelta(seconds=stale_after_s),
        )
        .values(status=AnalysisStatus.QUEUED)
        .returning(col(AnalysisRow.id))
    )
    return len(result.all())


async def queued_ids(session: AsyncSession, limit: int = 100) -> list[str]:
    result = await session.execute(
        select(col(AnalysisRow.id))
        .where(col(AnalysisRow.status) == AnalysisStatus.QUEUED)
        .order_by(col(AnalysisRow.created_at))
        .limit(limit)
    )
    return [str(r) for r in result.scalars().all()]


async def get_inputs(session: AsyncSession, analysis_id: str) -> AnalysisInputRow | None:
    return await session.get(AnalysisInputRow, analysis_id)


async def save_inputs(session: AsyncSession, analysis_id: str, snapshot: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO analysis_inputs (analysis_id, replica_seq, snapshot) "
            "VALUES (:a, :seq, CAST(:s AS jsonb)) ON CONFLICT (analysis_id) "
            "DO UPDATE SET replica_seq = excluded.replica_seq, snapshot = excluded.snapshot"
        ),
        {"a": analysis_id, "seq": snapshot.get("replica_seq"), "s": json.dumps(snapshot, default=str)},
    )


async def annotate_source(session: AsyncSession, analysis_id: str, extra: dict[str, Any]) -> None:
    """Add what the snapshot read (e.g. the order replica's position) to the analysis's source."""
    await session.execute(
        text("UPDATE analyses SET source = source || CAST(:x AS jsonb) WHERE id = :a"),
        {"a": analysis_id, "x": json.dumps(extra, default=str)},
    )


async def clear_results(session: AsyncSession, analysis_id: str) -> None:
    """What a previous, interrupted attempt may have left (results are written in one transaction,
    so normally nothing)."""
    for table in ("analysis_operations", "analysis_load", "analysis_overloads", "analysis_proposals"):
        await session.execute(text(f"DELETE FROM {table} WHERE analysis_id = :a"), {"a": analysis_id})


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert with PostgreSQL COPY (binary) on the session's connection; dicts go as JSONB."""
    if not rows:
        return
    rows = [tuple(json.dumps(v, default=str) if isinstance(v, dict | list) else v for v in r) for r in rows]
    await copy_records(session, table, columns, rows)


async def finish(
    session: AsyncSession,
    analysis_id: str,
    attempt: int,
    *,
    status: AnalysisStatus,
    counts: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
    bottleneck: dict[str, Any] | None = None,
    warnings: list[dict[str, Any]] | None = None,
    error: str | None = None,
) -> AnalysisRow | None:
    values: dict[str, Any] = {
        "status": status,
        "finished_at": utcnow(),
        "heartbeat_at": utcnow(),
        "error": error,
        "bottleneck": bottleneck,
    }
    if status is AnalysisStatus.SUCCEEDED:
        values["progress"] = 1.0
    if counts is not None:
        values["counts"] = counts
    if timings is not None:
        values["timings"] = timings
    if warnings is not None:
        values["warnings"] = warnings
    result = await session.execute(
        update(AnalysisRow)
        .where(
            col(AnalysisRow.id) == analysis_id,
            col(AnalysisRow.attempts) == attempt,
            col(AnalysisRow.status) == AnalysisStatus.RUNNING,
        )
        .values(**values)
        .returning(AnalysisRow)
    )
    return result.scalar_one_or_none()


# -- results ----------------------------------------------------------------------------------------


async def list_load(
    session: AsyncSession,
    analysis_id: str,
    *,
    work_center: str | None,
    after: tuple[str, date] | None,
    limit: int | None,
) -> list[LoadCellRow]:
    query = select(LoadCellRow).where(col(LoadCellRow.analysis_id) == analysis_id)
    if work_center is not None:
        query = query.where(col(LoadCellRow.work_center) == work_center)
    if after is not None:
        query = query.where(
            tuple_(col(LoadCellRow.work_center), col(LoadCellRow.bucket_start))
            > tuple_(literal(after[0]), literal(after[1]))
        )
    query = query.order_by(col(LoadCellRow.work_center), col(LoadCellRow.bucket_start))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars().all())


async def list_operations(
    session: AsyncSession,
    analysis_id: str,
    *,
    order_id: str | None,
    work_center: str | None,
    after: int | None,
    limit: int,
) -> list[AnalysisOperationRow]:
    query = select(AnalysisOperationRow).where(col(AnalysisOperationRow.analysis_id) == analysis_id)
    if order_id is not None:
        query = query.where(col(AnalysisOperationRow.order_id) == order_id)
    if work_center is not None:
        query = query.where(col(AnalysisOperationRow.work_center) == work_center)
    if after is not None:
        query = query.where(col(AnalysisOperationRow.position) > after)
    query = query.order_by(col(AnalysisOperationRow.position)).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def list_overloads(
    session: AsyncSession,
    analysis_id: str,
    *,
    work_center: str | None,
    after: tuple[str, date] | None,
    limit: int,
) -> list[OverloadRow]:
    query = select(OverloadRow).where(col(OverloadRow.analysis_id) == analysis_id)
    if work_center is not None:
        query = query.where(col(OverloadRow.work_center) == work_center)
    if after is not None:
        query = query.where(
            tuple_(col(OverloadRow.work_center), col(OverloadRow.bucket_start))
            > tuple_(literal(after[0]), literal(after[1]))
        )
    query = query.order_by(col(OverloadRow.work_center), col(OverloadRow.bucket_start)).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def list_proposals(
    session: AsyncSession,
    analysis_id: str,
    *,
    work_center: str | None,
    bucket_start: date | None,
    kind: str | None,
    after: int | None,
    limit: int,
) -> list[ProposalRow]:
    query = select(ProposalRow).where(col(ProposalRow.analysis_id) == analysis_id)
    if work_center is not None:
        query = query.where(col(ProposalRow.work_center) == work_center)
    if bucket_start is not None:
        query = query.where(col(ProposalRow.bucket_start) == bucket_start)
    if kind is not None:
        query = query.where(col(ProposalRow.kind) == kind)
    if after is not None:
        query = query.where(col(ProposalRow.id) > after)
    query = query.order_by(col(ProposalRow.id)).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def get_proposal(session: AsyncSession, analysis_id: str, proposal_id: int) -> ProposalRow | None:
    query = select(ProposalRow).where(
        col(ProposalRow.analysis_id) == analysis_id, col(ProposalRow.id) == proposal_id
    )
    return (await session.execute(query)).scalar_one_or_none()
