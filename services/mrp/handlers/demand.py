"""Demand: sales orders (API and EDI) and forecasts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from fastapi import Request

from services.mrp import events
from services.mrp.api.schemas import (
    ForecastBucketIn,
    ForecastPublic,
    ForecastPut,
    SalesOrderCreate,
    SalesOrderLinePatch,
    SalesOrderPublic,
)
from services.mrp.db import repositories as repo
from services.mrp.handlers.common import DuplicateOrder, InvalidTransition, new_id, sales_order_public
from shared.db.uow import UnitOfWork
from shared.web.etag import check_if_match
from shared.web.problems import FieldError, NotFound, ValidationFailed


async def check_skus(uow: UnitOfWork, skus: Sequence[str], field: str = "lines[{i}].sku") -> None:
    """A 422 naming every sku the master-data replica does not know."""
    known = await repo.existing_keys(uow.session, "item", skus)
    errors = [
        FieldError(field=field.format(i=i), message=f"unknown sku {sku!r}", code="unknown_sku")
        for i, sku in enumerate(skus)
        if sku not in known
    ]
    if errors:
        raise ValidationFailed(errors)


async def load_sales_order(uow: UnitOfWork, order_id: str, *, lock: bool = False) -> SalesOrderPublic:
    row = await repo.sales_order(uow.session, order_id, lock=lock)
    if row is None:
        raise NotFound(f"no sales order {order_id!r}")
    lines = (await repo.sales_order_lines(uow.session, [order_id])).get(order_id, [])
    return sales_order_public(row, lines)


async def book_sales_order(
    uow: UnitOfWork,
    *,
    number: str,
    customer: str,
    lines: Sequence[tuple[str, Decimal, date]],
    source: str = "api",
    interchange_key: str | None = None,
) -> SalesOrderPublic | None:
    """Insert the order and emit ``sales_order.created``; None when (customer, number) exists."""
    order_id = new_id("so")
    if not await repo.insert_sales_order(
        uow.session,
        order_id=order_id,
        number=number,
        customer=customer,
        source=source,
        interchange_key=interchange_key,
        lines=lines,
    ):
        return None
    await repo.record_changes(uow.session, [ln[0] for ln in lines], "sales_order")
    order = await load_sales_order(uow, order_id)
    uow.emit(events.sales_order_event("created", order.model_dump(mode="json")))
    return order


async def create_sales_order(uow: UnitOfWork, body: SalesOrderCreate) -> SalesOrderPublic:
    await check_skus(uow, [ln.sku for ln in body.lines])
    order = await book_sales_order(
        uow,
        number=body.number,
        customer=body.customer,
        lines=[(ln.sku, ln.qty, ln.due_date) for ln in body.lines],
    )
    if order is None:
        existing = await repo.sales_order_by_number(uow.session, body.customer, body.number)
        raise DuplicateOrder(
            f"customer {body.customer!r} already has a sales order {body.number!r}",
            existing_id=existing["id"] if existing else None,
        )
    return order


async def change_sales_order_line(
    uow: UnitOfWork, request: Request, order_id: str, line: int, body: SalesOrderLinePatch
) -> SalesOrderPublic:
    order = await load_sales_order(uow, order_id, lock=True)
    check_if_match(request, order.version, f"sales order {order_id}")
    current = next((ln for ln in order.lines if ln.line == line), None)
    if current is None:
        raise NotFound(f"sales order {order_id!r} has no line {line}")
    if current.status != "open":
        raise InvalidTransition(
            f"line {line} is {current.status}; only an open line changes", current_status=current.status
        )
    if body.qty is None and body.due_date is None:
        raise ValidationFailed.one("body", "give qty, due_date or both")
    await repo.update_sales_order_line(
        uow.session, order_id, line, body.qty or current.qty, body.due_date or current.due_date, "open"
    )
    await repo.touch_sales_order(uow.session, order_id, order.status)
    await repo.record_changes(uow.session, [current.sku], "sales_order")
    changed = await load_sales_order(uow, order_id)
    uow.emit(events.sales_order_event("changed", changed.model_dump(mode="json")))
    return changed


async def cancel_sales_order(
    uow: UnitOfWork, request: Request, order_id: str, line: int | None
) -> SalesOrderPublic:
    order = await load_sales_order(uow, order_id, lock=True)
    check_if_match(request, order.version, f"sales order {order_id}")
    if order.status == "cancelled":
        raise InvalidTransition(f"sales order {order_id} is already cancelled", current_status=order.status)
    targets = [ln for ln in order.lines if line is None or ln.line == line]
    if line is not None and not targets:
        raise NotFound(f"sales order {order_id!r} has no line {line}")
    if line is not None and targets[0].status == "cancelled":
        raise InvalidTransition(f"line {line} is already cancelled", current_status="cancelled")
    for ln in targets:
        await repo.update_sales_order_line(uow.session, order_id, ln.line, ln.qty, ln.due_date, "cancelled")
    remaining_open = [ln for ln in order.lines if ln.status == "open" and ln not in targets]
    await repo.touch_sales_order(uow.session, order_id, "open" if remaining_open else "cancelled")
    await repo.record_changes(uow.session, [ln.sku for ln in targets], "sales_order")
    changed = await load_sales_order(uow, order_id)
    uow.emit(
        events.sales_order_event(
            "cancelled" if changed.status == "cancelled" else "changed", changed.model_dump(mode="json")
        )
    )
    return changed


async def put_forecast(uow: UnitOfWork, sku: str, body: ForecastPut) -> ForecastPublic:
    await check_skus(uow, [sku], field="path.sku")
    seen: set[date] = set()
    errors = []
    for i, b in enumerate(body.buckets):
        if b.start in seen:
            errors.append(
                FieldError(field=f"buckets[{i}].start", message="a bucket with this start is already given")
            )
        seen.add(b.start)
    if errors:
        raise ValidationFailed(errors)
    buckets = sorted((b.start, b.qty) for b in body.buckets)
    await repo.replace_forecast(uow.session, sku, buckets)
    await repo.record_changes(uow.session, [sku], "forecast")
    return ForecastPublic(sku=sku, buckets=[ForecastBucketIn(start=s, qty=q) for s, q in buckets])


async def get_forecast(uow: UnitOfWork, sku: str) -> ForecastPublic:
    rows = await repo.forecast(uow.session, sku)
    if not rows and not await repo.existing_keys(uow.session, "item", [sku]):
        raise NotFound(f"no item {sku!r}")
    return ForecastPublic(
        sku=sku, buckets=[ForecastBucketIn(start=r["start"], qty=Decimal(r["qty"])) for r in rows]
    )
