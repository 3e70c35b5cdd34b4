"""The movement ledger and the balances it maintains."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from services.inventory import handlers
from services.inventory.api.schemas import (
    BalanceList,
    FastUowDep,
    MovementCreate,
    MovementList,
    MovementPublic,
    SettingsDep,
    number,
    parse_as_of,
)
from services.inventory.db import repositories as repo
from services.inventory.domain.model import MovementType
from shared.web.app import SessionDep
from shared.web.idempotency import RequiredIdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import NotFound, ValidationFailed

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


def json_document(**members: str) -> Response:
    """A JSON object from members that are JSON text already (as PostgreSQL wrote them)."""
    body = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in members.items()) + "}"
    return Response(body.encode(), media_type="application/json")


PageDep = Annotated[PageParams, Depends(page_params)]


def booked_public(booked: handlers.BookedMovement) -> MovementPublic:
    m = booked.movement
    return MovementPublic(
        id=booked.id,
        seq=booked.seq,
        type=m.type,
        sku=m.sku,
        qty=m.qty,
        location=m.location,
        to_location=m.to_location,
        lot=m.lot,
        unit_cost=m.unit_cost,
        reason=m.reason,
        reference=m.reference,
        reservation_id=booked.reservation_id,
        at=m.at,
        recorded_at=booked.recorded_at,
        fifo_value=booked.fifo.value,
        average_value=booked.average.value,
        purchase_price_variance=booked.ppv,
        balances=[b.as_dict() for b in booked.balances],
    )


def row_public(r: Any) -> MovementPublic:
    return MovementPublic(
        id=r.id,
        seq=r.seq,
        type=MovementType(r.type),
        sku=r.sku,
        qty=r.qty,
        location=r.location,
        to_location=r.to_location,
        lot=repo.api_lot(r.lot),
        unit_cost=r.unit_cost,
        reason=r.reason,
        reference=r.reference,
        reservation_id=r.reservation_id,
        at=r.at,
        recorded_at=r.recorded_at,
        fifo_value=r.fifo_value,
        average_value=r.avg_value,
        purchase_price_variance=r.ppv,
    )


@router.post(
    "/movements",
    status_code=201,
    operation_id="inventory_create_movement",
    response_model=MovementPublic,
    summary="Book a movement: receipt, issue, transfer, adjustment or scrap (Idempotency-Key required)",
    responses={409: {"description": "Insufficient stock"}, 422: {"description": "A bad field"}},
)
async def create_movement(
    body: MovementCreate, uow: FastUowDep, idem: RequiredIdempotencyDep, settings: SettingsDep
) -> Response:
    command = handlers.RecordMovement(**body.model_dump())
    async with uow:

        async def work() -> MovementPublic:
            booked = await handlers.record_movement(uow.session, uow.emit, settings, command)
            return booked_public(booked)

        return await idem.execute(
            uow, work, status_code=201, headers=lambda r: {"Location": f"/v1/inventory/movements/{r.id}"}
        )


def _day_or_time(value: str | None, field: str) -> datetime | None:
    parsed = parse_as_of(value, field)
    if parsed is None or isinstance(parsed, datetime):
        return parsed
    return handlers._day_start(parsed)


@router.get(
    "/movements",
    operation_id="inventory_list_movements",
    response_model=MovementList,
    summary="The ledger, in booking order, filtered by sku, location, type and date",
)
async def list_movements(
    session: SessionDep,
    page: PageDep,
    sku: str | None = None,
    location: str | None = None,
    type: MovementType | None = None,
    reference: str | None = None,
    from_: Annotated[str | None, Query(alias="from", description="Date or timestamp (inclusive)")] = None,
    to: Annotated[str | None, Query(description="Date (inclusive) or timestamp (exclusive)")] = None,
) -> MovementList:
    start = _day_or_time(from_, "query.from")
    end = parse_as_of(to, "query.to")
    end_dt = handlers.as_of_cutoff(end) if isinstance(end, date) and not isinstance(end, datetime) else end
    after = page.after()
    if after is not None and (len(after) != 1 or not isinstance(after[0], int)):
        raise ValidationFailed.one("query.page_token", "not a page token of this list")
    rows = await repo.list_movements(
        session,
        sku=sku,
        location=location,
        type_=type.value if type else None,
        start=start,
        end=end_dt,
        reference=reference,
        after_seq=after[0] if after else None,
        limit=page.page_size + 1,
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return MovementList(
        items=[row_public(r) for r in rows],
        next_page_token=encode_token([rows[-1].seq]) if more and rows else None,
    )


@router.get(
    "/movements/{movement_id}",
    operation_id="inventory_get_movement",
    response_model=MovementPublic,
    summary="One movement of the ledger",
)
async def get_movement(movement_id: str, session: SessionDep) -> MovementPublic:
    row = await repo.movement(session, movement_id)
    if row is None:
        raise NotFound(f"no movement {movement_id!r}")
    return row_public(row)


@router.get(
    "/balances",
    operation_id="inventory_list_balances",
    response_model=BalanceList,
    summary="On hand, reserved and available per (sku, location, lot); as of a past date",
)
async def list_balances(
    session: SessionDep,
    sku: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    as_of: Annotated[
        str | None, Query(description="Date (its whole UTC day) or timestamp; reservations are not dated")
    ] = None,
    page_size: Annotated[int | None, Query(ge=1, le=100_000, description="Default: every balance")] = None,
    page_token: str | None = None,
) -> Response:
    when = parse_as_of(as_of)
    if when is not None:
        cutoff = handlers.as_of_cutoff(when)
        assert cutoff is not None
        items = await repo.balances_as_of_json(session, cutoff, sku=sku, location=location, lot=lot)
        return json_document(items=items, as_of=json.dumps(as_of), next_page_token="null")
    if page_size is None and not page_token:
        # Every balance: the JSON is built by PostgreSQL in one row (100k balances in well under 1 s).
        items = await repo.balances_json(session, sku=sku, location=location, lot=lot)
        return json_document(items=items, as_of="null", next_page_token="null")
    after = None
    if page_token:
        params = PageParams(page_size=page_size or 1000, page_token=page_token)
        after = params.after()
        if after is None or len(after) != 3:
            raise ValidationFailed.one("query.page_token", "not a page token of this list")
    limit = page_size + 1 if page_size else None
    rows = await repo.balances(session, sku=sku, location=location, lot=lot, after=after, limit=limit)
    token = None
    if page_size and len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        token = encode_token([last.sku, last.location, last.lot])
    page = [
        {
            "sku": r.sku,
            "location": r.location,
            "lot": r.lot or None,
            "on_hand": number(r.on_hand),
            "reserved": number(r.reserved),
            "available": number(r.on_hand - r.reserved),
        }
        for r in rows
    ]
    return JSONResponse({"items": page, "as_of": None, "next_page_token": token})
