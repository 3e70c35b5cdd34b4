"""The order book: ``/v1/mrp/orders`` and ``/v1/mrp/purchase-orders``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from services.mrp.api.deps import MrpStateDep
from services.mrp.api.schemas import (
    OrderComplete,
    OrderCreate,
    OrderList,
    OrderPublic,
    OrderReceive,
    PurchaseGroupRequest,
    PurchaseGroupResult,
)
from services.mrp.db import repositories as repo
from services.mrp.handlers import orders
from services.mrp.handlers.common import order_public
from shared.db.uow import UnitOfWork
from shared.web.app import UowDep
from shared.web.etag import etag
from shared.web.idempotency import IdempotencyDep, IdempotencyKey
from shared.web.pagination import PageParams, encode_token, page_params

router = APIRouter(prefix="/v1/mrp", tags=["mrp"])
PageDep = Annotated[PageParams, Depends(page_params)]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found (problem)"},
    409: {"description": "Wrong transition (`status` names the current one) or component shortage (problem)"},
    412: {"description": "If-Match does not name the current version (problem)"},
}


def _headers(order: OrderPublic) -> dict[str, str]:
    return {"Location": f"/v1/mrp/orders/{order.id}", "ETag": etag(order.version)}


async def _step(
    uow: UnitOfWork, idem: IdempotencyKey, work: Callable[[], Awaitable[OrderPublic]]
) -> Response:
    async with uow:
        return await idem.execute(uow, work, headers=_headers)


@router.post(
    "/orders",
    status_code=201,
    operation_id="mrp_create_order",
    summary="Create a make or buy order, planned or firm (Idempotency-Key)",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def create_order(body: OrderCreate, uow: UowDep, idem: IdempotencyDep) -> Response:
    async with uow:

        async def work() -> OrderPublic:
            return await orders.create_order(uow, body)

        return await idem.execute(uow, work, status_code=201, headers=_headers)


@router.get("/orders", operation_id="mrp_list_orders", summary="Orders of the book (paged, oldest first)")
async def list_orders(
    uow: UowDep,
    page: PageDep,
    kind: Annotated[Literal["make", "buy"] | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    sku: Annotated[str | None, Query()] = None,
    supplier: Annotated[str | None, Query()] = None,
) -> OrderList:
    after = page.after()
    async with uow:
        rows = await repo.list_orders(
            uow.session,
            kind=kind,
            status=status,
            sku=sku,
            supplier=supplier,
            after=int(after[0]) if after else None,
            limit=page.page_size + 1,
        )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return OrderList(
        items=[order_public(r) for r in rows],
        next_page_token=encode_token([rows[-1]["seq"]]) if more and rows else None,
    )


@router.get(
    "/orders/{order_id}",
    operation_id="mrp_get_order",
    summary="One order (ETag)",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def get_order(order_id: str, uow: UowDep) -> Response:
    async with uow:
        order = order_public(await orders.load_order(uow, order_id))
    return JSONResponse(order.model_dump(mode="json"), headers={"ETag": etag(order.version)})


def _simple_step(step: str, summary: str) -> None:
    async def endpoint(order_id: str, request: Request, uow: UowDep, idem: IdempotencyDep) -> Response:
        return await _step(uow, idem, lambda: orders.step_order(uow, request, order_id, step))

    router.add_api_route(
        f"/orders/{{order_id}}/{step}",
        endpoint,
        methods=["POST"],
        operation_id=f"mrp_{step}_order",
        summary=summary,
        response_model=OrderPublic,
        responses=_PROBLEMS,
    )


_simple_step("firm", "Firm a planned order: MRP will not change it any more")
_simple_step("start", "Start a released make order (in progress)")
_simple_step("close", "Close a done order")
_simple_step("cancel", "Cancel a planned, firm or released order (inventory frees its reservations)")


@router.post(
    "/orders/{order_id}/release",
    operation_id="mrp_release_order",
    summary="Release a firm order; a make order's components must be available (else 409 component-shortage)",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def release_order(
    order_id: str, request: Request, uow: UowDep, idem: IdempotencyDep, state: MrpStateDep
) -> Response:
    return await _step(uow, idem, lambda: orders.release_order(uow, request, order_id, state.inventory))


@router.post(
    "/orders/{order_id}/complete",
    operation_id="mrp_complete_order",
    summary="Complete a released or started make order with its good quantity",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def complete_order(
    order_id: str, body: OrderComplete, request: Request, uow: UowDep, idem: IdempotencyDep
) -> Response:
    return await _step(uow, idem, lambda: orders.complete_order(uow, request, order_id, body))


@router.post(
    "/orders/{order_id}/receive",
    operation_id="mrp_receive_order",
    summary="Receive (part of) a buy order; done when everything is received",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def receive_order(
    order_id: str, body: OrderReceive, request: Request, uow: UowDep, idem: IdempotencyDep
) -> Response:
    return await _step(uow, idem, lambda: orders.receive_order(uow, request, order_id, body))


@router.post(
    "/purchase-orders/group",
    operation_id="mrp_group_purchase_orders",
    summary="Turn planned and firm buy orders into purchase orders, one per supplier",
    response_model=PurchaseGroupResult,
    responses=_PROBLEMS,
)
async def group_purchase_orders(
    uow: UowDep, idem: IdempotencyDep, body: PurchaseGroupRequest | None = None
) -> Response:
    async with uow:

        async def work() -> PurchaseGroupResult:
            return await orders.group_purchase_orders(uow, body or PurchaseGroupRequest())

        return await idem.execute(uow, work)
