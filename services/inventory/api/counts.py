"""Physical and cycle counts: count sheets, counted lines, posting, accuracy, what is due."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory import handlers
from services.inventory.api.schemas import (
    AccuracyPublic,
    CountCreate,
    CountLinePublic,
    CountLinesInput,
    CountPost,
    CountPublic,
    DueCountList,
    DueCountPublic,
    FastUowDep,
    SettingsDep,
)
from shared.web.app import SessionDep

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


async def count_public(
    session: AsyncSession, count_id: str, adjustments: list[str] | None = None
) -> CountPublic:
    row, sheet, accuracy = await handlers.count_view(session, count_id)
    lines = sorted(sheet.lines.values(), key=lambda ln: (ln.key.sku, ln.key.location, ln.key.lot or ""))
    return CountPublic(
        id=row.id,
        kind=row.kind,
        status=row.status,
        location=row.location,
        skus=row.skus,
        reason=row.reason,
        snapshot_at=row.snapshot_at,
        posted_at=row.posted_at,
        lines=[
            CountLinePublic(
                sku=ln.key.sku,
                location=ln.key.location,
                lot=ln.key.lot,
                expected=ln.expected,
                counted=ln.counted,
                difference=ln.difference,
            )
            for ln in lines
        ],
        accuracy=AccuracyPublic(lines=accuracy.lines, within=accuracy.within, share=accuracy.share),
        adjustments=adjustments or [],
    )


@router.post(
    "/counts",
    status_code=201,
    operation_id="inventory_create_count",
    response_model=CountPublic,
    summary="Open a count sheet (full or cycle) with the on-hand quantities expected now",
)
async def create_count(body: CountCreate, uow: FastUowDep, settings: SettingsDep) -> CountPublic:
    async with uow:
        count_id = await handlers.open_count(
            uow.session, settings, kind=body.kind, location=body.location, skus=body.skus, reason=body.reason
        )
        result = await count_public(uow.session, count_id)
        await uow.commit()
    return result


@router.get(
    "/counts/due",
    operation_id="inventory_list_due_counts",
    response_model=DueCountList,
    summary="Items due for a cycle count on a day (A monthly, B quarterly, C yearly by default)",
)
async def list_due_counts(session: SessionDep, settings: SettingsDep, on: date | None = None) -> DueCountList:
    day = on or handlers.utcnow().date()
    due = await handlers.counts_due(session, settings, day)
    return DueCountList(
        on=day,
        items=[
            DueCountPublic(sku=d.sku, abc_class=d.abc_class, due_on=d.due_on, days_overdue=d.days_overdue)
            for d in due
        ],
    )


@router.post(
    "/counts/{count_id}/lines",
    operation_id="inventory_record_count_lines",
    response_model=CountPublic,
    summary="Record counted quantities (a recount replaces the figure; unexpected stock adds a line)",
)
async def record_count_lines(
    count_id: str, body: CountLinesInput, uow: FastUowDep, settings: SettingsDep
) -> CountPublic:
    async with uow:
        await handlers.record_count_lines(
            uow.session,
            count_id,
            [(ln.sku, ln.location or settings.default_location, ln.lot, ln.counted) for ln in body.lines],
        )
        result = await count_public(uow.session, count_id)
        await uow.commit()
    return result


@router.post(
    "/counts/{count_id}/post",
    operation_id="inventory_post_count",
    response_model=CountPublic,
    summary="Post a count: book the differences as adjustments; gives the stock accuracy",
)
async def post_count(
    count_id: str, uow: FastUowDep, settings: SettingsDep, body: CountPost | None = None
) -> CountPublic:
    body = body or CountPost(tolerance_qty=Decimal(0), tolerance_ratio=Decimal(0))
    async with uow:
        booked = await handlers.post_count(
            uow.session,
            uow.emit,
            settings,
            count_id,
            tolerance_qty=body.tolerance_qty,
            tolerance_ratio=body.tolerance_ratio,
        )
        result = await count_public(uow.session, count_id, [b.id for b in booked])
        await uow.commit()
    return result


@router.get(
    "/counts/{count_id}",
    operation_id="inventory_get_count",
    response_model=CountPublic,
    summary="A count sheet: expected, counted, differences and accuracy",
)
async def get_count(count_id: str, session: SessionDep) -> CountPublic:
    return await count_public(session, count_id)
