"""Reservations for orders (FIFO / FEFO lot choice), release, consumption, and pick lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.inventory import handlers
from services.inventory.api.schemas import (
    FastUowDep,
    PickLinePublic,
    PickList,
    ReservationConsume,
    ReservationCreate,
    ReservationList,
    ReservationPublic,
    SettingsDep,
)
from services.inventory.db import repositories as repo
from shared.web.app import SessionDep
from shared.web.idempotency import IdempotencyDep, RequiredIdempotencyDep

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


def reservation_public(view: handlers.ReservationView) -> ReservationPublic:
    return ReservationPublic(
        id=view.id,
        order=view.order,
        sku=view.sku,
        policy=view.policy,
        status=view.status,
        requested=view.requested,
        reserved=view.reserved,
        held=view.held,
        consumed=view.consumed,
        released=view.released,
        short=view.requested - view.reserved,
        created_at=view.created_at,
        lines=view.lines,
        movements=view.movements,
    )


@router.post(
    "/reservations",
    status_code=201,
    operation_id="inventory_create_reservation",
    response_model=ReservationPublic,
    summary="Reserve stock for an order, never more than available (Idempotency-Key required)",
    responses={409: {"description": "Insufficient stock"}},
)
async def create_reservation(
    body: ReservationCreate, uow: FastUowDep, idem: RequiredIdempotencyDep
) -> Response:
    async with uow:

        async def work() -> ReservationPublic:
            view, _missing = await handlers.create_reservation(
                uow.session,
                uow.emit,
                order=body.order,
                sku=body.sku,
                qty=body.qty,
                policy=body.policy,
                allow_partial=body.allow_partial,
                location=body.location,
            )
            assert view is not None
            return reservation_public(view)

        return await idem.execute(
            uow,
            work,
            status_code=201,
            headers=lambda r: {"Location": f"/v1/inventory/reservations/{r.id}"},
        )


@router.get(
    "/reservations",
    operation_id="inventory_list_reservations",
    response_model=ReservationList,
    summary="The reservations of an order",
)
async def list_reservations(
    session: SessionDep, order: Annotated[str, Query(min_length=1)], status: str | None = None
) -> ReservationList:
    rows = await repo.reservations_of_order(session, order)
    views = [await handlers.get_reservation(session, r.id) for r in rows]
    return ReservationList(
        items=[reservation_public(v) for v in views if status is None or v.status == status]
    )


@router.get(
    "/reservations/{reservation_id}",
    operation_id="inventory_get_reservation",
    response_model=ReservationPublic,
    summary="One reservation, with the stock it holds per location and lot",
)
async def get_reservation(reservation_id: str, session: SessionDep) -> ReservationPublic:
    return reservation_public(await handlers.get_reservation(session, reservation_id))


@router.delete(
    "/reservations/{reservation_id}",
    operation_id="inventory_release_reservation",
    response_model=ReservationPublic,
    summary="Release a reservation (all of it, or qty), last-chosen stock first",
)
async def release_reservation(
    reservation_id: str,
    uow: FastUowDep,
    qty: Annotated[Decimal | None, Query(gt=0, description="Default: all that is held")] = None,
) -> ReservationPublic:
    async with uow:
        view = await handlers.release_reservation(uow.session, uow.emit, reservation_id, qty)
        await uow.commit()
    return reservation_public(view)


@router.post(
    "/reservations/{reservation_id}/consume",
    operation_id="inventory_consume_reservation",
    response_model=ReservationPublic,
    summary="Issue reserved stock (all, or qty), first-chosen stock first (Idempotency-Key accepted)",
)
async def consume_reservation(
    reservation_id: str,
    uow: FastUowDep,
    idem: IdempotencyDep,
    settings: SettingsDep,
    body: ReservationConsume | None = None,
) -> Response:
    body = body or ReservationConsume()
    async with uow:

        async def work() -> ReservationPublic:
            view = await handlers.consume_reservation(
                uow.session, uow.emit, settings, reservation_id, body.qty, reference=body.reference
            )
            return reservation_public(view)

        return await idem.execute(uow, work)


@router.get(
    "/orders/{order}/pick-list",
    operation_id="inventory_get_pick_list",
    response_model=PickList,
    summary="What to pick for an order: item, lot, bin and quantity, in bin order",
)
async def get_pick_list(order: str, session: SessionDep) -> PickList:
    lines = await handlers.pick_list(session, order)
    return PickList(
        order=order,
        items=[PickLinePublic(sku=p.sku, lot=p.lot, bin=p.bin, qty=p.qty) for p in lines],
    )
