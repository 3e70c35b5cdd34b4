"""Sales orders and forecasts: ``/v1/mrp/sales-orders``, ``/v1/mrp/forecasts``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from services.mrp.api.schemas import (
    EdiResult,
    ForecastPublic,
    ForecastPut,
    SalesOrderCancel,
    SalesOrderCreate,
    SalesOrderLinePatch,
    SalesOrderList,
    SalesOrderPublic,
)
from services.mrp.db import repositories as repo
from services.mrp.handlers import demand, edi
from services.mrp.handlers.common import sales_order_public
from shared.web.app import UowDep
from shared.web.etag import etag
from shared.web.idempotency import IdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params

router = APIRouter(prefix="/v1/mrp", tags=["mrp"])
PageDep = Annotated[PageParams, Depends(page_params)]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found (problem)"},
    409: {"description": "Conflict (problem)"},
    412: {"description": "If-Match does not name the current version (problem)"},
}


def _order_headers(order: SalesOrderPublic) -> dict[str, str]:
    return {"Location": f"/v1/mrp/sales-orders/{order.id}", "ETag": etag(order.version)}


def _json(order: SalesOrderPublic, status: int = 200) -> JSONResponse:
    return JSONResponse(
        order.model_dump(mode="json"), status_code=status, headers={"ETag": etag(order.version)}
    )


@router.post(
    "/sales-orders",
    status_code=201,
    operation_id="mrp_create_sales_order",
    summary="Book a sales order (Idempotency-Key); every sku must exist in master data",
    response_model=SalesOrderPublic,
    responses=_PROBLEMS,
)
async def create_sales_order(body: SalesOrderCreate, uow: UowDep, idem: IdempotencyDep) -> Response:
    async with uow:

        async def work() -> SalesOrderPublic:
            return await demand.create_sales_order(uow, body)

        return await idem.execute(uow, work, status_code=201, headers=_order_headers)


@router.get(
    "/sales-orders",
    operation_id="mrp_list_sales_orders",
    summary="Sales orders, filtered by number and customer (paged, oldest first)",
)
async def list_sales_orders(
    uow: UowDep,
    page: PageDep,
    number: Annotated[str | None, Query()] = None,
    customer: Annotated[str | None, Query()] = None,
) -> SalesOrderList:
    after = page.after()
    async with uow:
        rows = await repo.list_sales_orders(
            uow.session,
            number=number,
            customer=customer,
            after=int(after[0]) if after else None,
            limit=page.page_size + 1,
        )
        more = len(rows) > page.page_size
        rows = rows[: page.page_size]
        lines = await repo.sales_order_lines(uow.session, [r["id"] for r in rows])
    return SalesOrderList(
        items=[sales_order_public(r, lines.get(r["id"], [])) for r in rows],
        next_page_token=encode_token([rows[-1]["seq"]]) if more and rows else None,
    )


@router.get(
    "/sales-orders/{order_id}",
    operation_id="mrp_get_sales_order",
    summary="One sales order with its lines (ETag)",
    response_model=SalesOrderPublic,
    responses=_PROBLEMS,
)
async def get_sales_order(order_id: str, uow: UowDep) -> Response:
    async with uow:
        return _json(await demand.load_sales_order(uow, order_id))


@router.patch(
    "/sales-orders/{order_id}/lines/{line}",
    operation_id="mrp_change_sales_order_line",
    summary="Change a line's quantity or due date (If-Match honoured)",
    response_model=SalesOrderPublic,
    responses=_PROBLEMS,
)
async def change_sales_order_line(
    order_id: str, line: int, body: SalesOrderLinePatch, request: Request, uow: UowDep
) -> Response:
    async with uow:
        order = await demand.change_sales_order_line(uow, request, order_id, line, body)
        await uow.commit()
    return _json(order)


@router.post(
    "/sales-orders/{order_id}/cancel",
    operation_id="mrp_cancel_sales_order",
    summary="Cancel a whole sales order, or one line of it (If-Match honoured)",
    response_model=SalesOrderPublic,
    responses=_PROBLEMS,
)
async def cancel_sales_order(
    order_id: str,
    request: Request,
    uow: UowDep,
    body: Annotated[SalesOrderCancel | None, Body()] = None,
) -> Response:
    async with uow:
        order = await demand.cancel_sales_order(uow, request, order_id, body.line if body else None)
        await uow.commit()
    return _json(order)


@router.put(
    "/forecasts/{sku}",
    operation_id="mrp_put_forecast",
    summary="Replace the forecast of a sku (buckets run from their start to the next one's)",
    responses=_PROBLEMS,
)
async def put_forecast(sku: str, body: ForecastPut, uow: UowDep) -> ForecastPublic:
    async with uow:
        result = await demand.put_forecast(uow, sku, body)
        await uow.commit()
    return result


@router.get(
    "/forecasts/{sku}",
    operation_id="mrp_get_forecast",
    summary="The forecast of a sku",
    responses=_PROBLEMS,
)
async def get_forecast(sku: str, uow: UowDep) -> ForecastPublic:
    async with uow:
        return await demand.get_forecast(uow, sku)


@router.post(
    "/sales-orders/edi",
    status_code=201,
    operation_id="mrp_create_sales_orders_from_edi",
    summary="Book the orders of an EDIFACT ORDERS or X12 850 interchange (text/plain)",
    response_model=EdiResult,
    responses=_PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def create_sales_orders_from_edi(request: Request, uow: UowDep) -> Response:
    raw = await request.body()
    async with uow:
        orders, replayed = await edi.book_interchange(uow, raw)
        if not replayed:
            await uow.commit()
    content = EdiResult(items=orders).model_dump(mode="json")
    if replayed:
        return JSONResponse(content, status_code=200, headers={"Idempotent-Replayed": "true"})
    return JSONResponse(content, status_code=201)
