"""``/v1/capacity/orders``: the local replica of mrp's order book (read-only) and its resync."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text

from services.capacity import orders as order_replica
from services.capacity.api.schemas import OrderReplicaStatus, ReplicatedOrder, ReplicatedOrderList
from services.capacity.settings import CapacitySettings
from shared.web.app import RuntimeDep, SessionDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import NotFound, ServiceUnavailable, ValidationFailed

PREFIX = "/v1/capacity/orders"
PageDep = Annotated[PageParams, Depends(page_params)]
_COLUMNS = (
    "id, kind, sku, quantity, remaining_qty, release_date, due_date, status, version, cancelled, "
    "position, updated_at"
)

router = APIRouter(prefix=PREFIX, tags=["capacity"])


@router.get(
    "",
    operation_id="capacity_list_replicated_orders",
    summary="Orders of mrp's book as capacity's replica holds them (by id), with the replica's state",
)
async def list_orders(
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[str] | None, Query(description="Only orders in these states")] = None,
) -> ReplicatedOrderList:
    after = page.after()
    if after is not None and (len(after) != 1 or not isinstance(after[0], str)):
        raise ValidationFailed.one("query.page_token", "not a page token of this list")
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": page.page_size + 1}
    if status:
        where.append("status = ANY(:st)")
        params["st"] = status
    if after is not None:
        where.append("id > :after")
        params["after"] = after[0]
    rows = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLUMNS} FROM order_replica WHERE {' AND '.join(where)} "
                    "ORDER BY id LIMIT :limit"
                ),
                params,
            )
        )
        .mappings()
        .all()
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return ReplicatedOrderList(
        items=[ReplicatedOrder(**r) for r in rows],
        next_page_token=encode_token([rows[-1]["id"]]) if more and rows else None,
        replica=OrderReplicaStatus(**await order_replica.status(session)),
    )


@router.get(
    "/{order_id}",
    operation_id="capacity_get_replicated_order",
    summary="One order as the replica holds it",
)
async def get_order(order_id: str, session: SessionDep) -> ReplicatedOrder:
    row = (
        (
            await session.execute(
                text(f"SELECT {_COLUMNS} FROM order_replica WHERE id = :id"), {"id": order_id}
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"the order replica has no order {order_id!r}")
    return ReplicatedOrder(**row)


@router.post(
    "/resync",
    operation_id="capacity_resync_orders",
    summary="Replace the order replica with every order of mrp's book (all pages), now",
    description="Events arriving meanwhile wait and are applied on top by version. 503 when mrp "
    "cannot be read (the replica is left as it was).",
)
async def resync_orders(runtime: RuntimeDep) -> OrderReplicaStatus:
    settings: Any = runtime.settings
    assert isinstance(settings, CapacitySettings)
    try:
        state = await order_replica.resync(
            runtime.sessionmaker,
            mrp_url=settings.service_url("mrp"),
            timeout_s=settings.capacity_mrp_timeout_s,
            page_size=settings.capacity_mrp_page_size,
        )
    except order_replica.SourceUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc
    return OrderReplicaStatus(**state)
