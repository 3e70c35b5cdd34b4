"""EDI intake: an EDIFACT ORDERS or X12 850 interchange becomes sales orders, all or nothing.

- The text is parsed by :mod:`services.mrp.domain.edi`; a refused interchange is a 422 problem whose
  ``errors`` locate each problem: ``{field: "segment 7 (QTY) element 1", message, segment_tag,
  segment_index, element_position}``.
- One sales order per message, ``number`` = the buyer's order number, ``customer`` as the parser
  found it. A line's sku is the parser's pick when master data knows it, else the first of the
  line's other item ids that it knows; none known is a 422 naming the line.
- Messages whose function is not an original order (EDIFACT BGM 1225 cancel 1, deletion 3,
  replace 5; X12 BEG01 cancel 01, replace 05...) are refused: they would be booked wrongly.
- Each order keeps its ``interchange_key`` (unique): a replayed interchange books nothing and
  answers the orders it booked the first time (200, ``Idempotent-Replayed: true``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.mrp.api.schemas import SalesOrderPublic
from services.mrp.db import repositories as repo
from services.mrp.domain.edi import EdiError, EdiOrder, EdiSyntaxError, interchange_key, parse_edi
from services.mrp.handlers.common import DuplicateOrder
from services.mrp.handlers.demand import book_sales_order, load_sales_order
from shared.db.uow import UnitOfWork
from shared.web.problems import ValidationFailed

NOT_ORIGINAL = frozenset({"1", "3", "5", "01", "03", "04", "05"})


def error_field(e: EdiError) -> str:
    if e.segment_index is not None:
        out = f"segment {e.segment_index}" + (f" ({e.segment_tag})" if e.segment_tag else "")
        if e.element_position is not None:
            out += f" element {e.element_position}"
        return out
    return e.field or "body"


def problem_of(exc: EdiSyntaxError) -> ValidationFailed:
    return ValidationFailed(
        [
            {
                "field": error_field(e),
                "message": e.message,
                "code": "edi",
                "segment_tag": e.segment_tag,
                "segment_index": e.segment_index,
                "element_position": e.element_position,
            }
            for e in exc.errors
        ],
        detail=f"the EDI interchange was refused: {len(exc.errors)} error(s)",
    )


def parse(raw: bytes) -> list[EdiOrder]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        return parse_edi(text)
    except EdiSyntaxError as exc:
        raise problem_of(exc) from exc


async def _resolve(uow: UnitOfWork, orders: list[EdiOrder]) -> list[list[tuple[str, Decimal, Any]]]:
    """Each order's lines as (sku, qty, due date); a 422 listing every line that cannot be booked."""
    wanted = {i for o in orders for ln in o.lines for _, i in ln.item_ids} | {
        ln.sku for o in orders for ln in o.lines
    }
    known = await repo.existing_keys(uow.session, "item", wanted)
    errors: list[dict[str, Any]] = []
    out = []
    for m, order in enumerate(orders):
        where = f"messages[{m}]"
        if order.function_code in NOT_ORIGINAL:
            errors.append(
                {
                    "field": f"{where}.function_code",
                    "message": f"order {order.number}: message function {order.function_code!r} is not an "
                    "original order; only originals are booked",
                }
            )
        if not order.lines:
            errors.append({"field": f"{where}.lines", "message": f"order {order.number} has no lines"})
        lines = []
        for j, ln in enumerate(order.lines):
            sku = ln.sku if ln.sku in known else next((i for _, i in ln.item_ids if i in known), None)
            if sku is None:
                errors.append(
                    {
                        "field": f"{where}.lines[{j}].sku",
                        "message": f"order {order.number} line {ln.line_no}: no item id of "
                        f"{[i for _, i in ln.item_ids] or [ln.sku]} is a known sku",
                        "code": "unknown_sku",
                    }
                )
            if ln.due_date is None:
                errors.append(
                    {
                        "field": f"{where}.lines[{j}].due_date",
                        "message": f"order {order.number} line {ln.line_no}: "
                        "no delivery date on the line or the header",
                    }
                )
            if ln.qty <= 0 or ln.qty != ln.qty.quantize(Decimal("0.000001")):
                errors.append(
                    {
                        "field": f"{where}.lines[{j}].qty",
                        "message": f"order {order.number} line {ln.line_no}: "
                        f"quantity {ln.qty} must be positive with at most 6 decimals",
                    }
                )
            lines.append((sku or ln.sku, ln.qty, ln.due_date))
        out.append(lines)
    if errors:
        raise ValidationFailed(errors)
    return out


async def book_interchange(uow: UnitOfWork, raw: bytes) -> tuple[list[SalesOrderPublic], bool]:
    """Book every message; returns the orders and whether it was all a replay."""
    orders = parse(raw)
    if not orders:
        raise ValidationFailed.one("body", "the interchange holds no order message")
    keys = [interchange_key(o) for o in orders]
    existing = {k: await repo.sales_order_by_interchange(uow.session, k) for k in keys}
    if all(existing.values()):
        return [await load_sales_order(uow, row["id"]) for row in existing.values() if row], True
    resolved = await _resolve(uow, orders)
    booked: list[SalesOrderPublic] = []
    for order, key, lines in zip(orders, keys, resolved, strict=True):
        if existing[key] is not None:
            booked.append(await load_sales_order(uow, existing[key]["id"]))  # type: ignore[index]
            continue
        created = await book_sales_order(
            uow, number=order.number, customer=order.customer, lines=lines, source="edi", interchange_key=key
        )
        if created is None:
            again = await repo.sales_order_by_interchange(uow.session, key)
            if again is not None:  # the same interchange, booked concurrently
                booked.append(await load_sales_order(uow, again["id"]))
                continue
            dup = await repo.sales_order_by_number(uow.session, order.customer, order.number)
            raise DuplicateOrder(
                f"customer {order.customer!r} already has a sales order {order.number!r} "
                "(from another interchange or the API)",
                existing_id=dup["id"] if dup else None,
            )
        booked.append(created)
    return booked, False
