"""The order book: manufacturing (make) and purchase (buy) orders and their life cycle.

State machine (anything else is a 409 ``invalid-transition`` naming the current status)::

    planned ─firm─► firm ─release─► released ─start─► in_progress ─complete─► done ─close─► closed
    planned, firm, released ─cancel─► cancelled
    released ─complete─► done                       (make: complete without a start)
    firm, released, in_progress ─receive─► (done when everything is received)      (buy)

MRP never changes a firm (or later) order: it only advises (action messages).

Release of a make order explodes its BOM one level at the release date (phantoms passed through to
their components), asks inventory what is available, and either answers a 409
``component-shortage`` problem listing what is missing (and changes nothing) or sets the order
released and emits ``order.released`` with the components, which inventory reserves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from fastapi import Request

from services.mrp import events
from services.mrp.api.schemas import (
    OrderComplete,
    OrderCreate,
    OrderPublic,
    OrderReceive,
    PurchaseGroupRequest,
    PurchaseGroupResult,
    PurchaseOrderLine,
    PurchaseOrderPublic,
    number,
)
from services.mrp.db import repositories as repo
from services.mrp.handlers.common import ComponentShortage, InvalidTransition, new_id, order_public
from services.mrp.handlers.stock import InventoryClient, shortages
from services.mrp.snapshot import bom_lines_of
from shared.db.uow import UnitOfWork
from shared.web.etag import check_if_match
from shared.web.problems import FieldError, NotFound, ValidationFailed

_MICRO = Decimal("0.000001")

# step → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "firm": (frozenset({"planned"}), "firm"),
    "release": (frozenset({"firm"}), "released"),
    "start": (frozenset({"released"}), "in_progress"),
    "complete": (frozenset({"released", "in_progress"}), "done"),
    "close": (frozenset({"done"}), "closed"),
    "cancel": (frozenset({"planned", "firm", "released"}), "cancelled"),
    "receive": (frozenset({"firm", "released", "in_progress"}), "done"),
}
MAKE_ONLY = {"start", "complete"}
BUY_ONLY = {"receive"}


def check_transition(order: Mapping[str, Any], step: str) -> str:
    allowed, target = TRANSITIONS[step]
    status = str(order["status"])
    if step in MAKE_ONLY and order["kind"] != "make":
        raise InvalidTransition(
            f"'{step}' applies to make orders; order {order['id']} is a buy order", current_status=status
        )
    if step in BUY_ONLY and order["kind"] != "buy":
        raise InvalidTransition(
            f"'{step}' applies to buy orders; order {order['id']} is a make order", current_status=status
        )
    if status not in allowed:
        raise InvalidTransition(
            f"order {order['id']} is {status}: '{step}' needs it {' or '.join(sorted(allowed))}",
            current_status=status,
            allowed_from=sorted(allowed),
        )
    return target


def round6(value: Decimal) -> Decimal:
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


def explode_one_level(
    sku: str,
    quantity: Decimal,
    at: date,
    boms: Mapping[str, Sequence[Any]],
    phantoms: set[str],
) -> dict[str, Decimal]:
    """Component requirements of ``quantity`` of ``sku`` at ``at``: one level, phantoms passed
    through (their components at the same date). ``round6(Q × qty_per / (1 − scrap_pct/100))``."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    stack: list[tuple[str, Decimal, int]] = [(sku, quantity, 0)]
    while stack:
        parent, qty, depth = stack.pop()
        if depth > 50:
            raise ValueError(f"BOM of {sku} is too deep (a cycle through phantoms?)")
        for line in boms.get(parent, ()):
            if line.valid_from is not None and at < line.valid_from:
                continue
            if line.valid_to is not None and at >= line.valid_to:
                continue
            need = round6(qty * line.qty_per / (1 - line.scrap_pct / 100))
            if line.component in phantoms:
                stack.append((line.component, need, depth + 1))
            else:
                out[line.component] += need
    return {k: v for k, v in out.items() if v > 0}


async def load_order(uow: UnitOfWork, order_id: str, *, lock: bool = False) -> Any:
    row = await repo.order(uow.session, order_id, lock=lock)
    if row is None:
        raise NotFound(f"no order {order_id!r}")
    return row


def _public_json(row: Any) -> tuple[OrderPublic, dict[str, Any]]:
    public = order_public(row)
    return public, public.model_dump(mode="json")


async def create_order(uow: UnitOfWork, body: OrderCreate) -> OrderPublic:
    errors = []
    if body.due_date < body.release_date:
        errors.append(FieldError(field="due_date", message="must not be before release_date"))
    if not await repo.existing_keys(uow.session, "item", [body.sku]):
        errors.append(FieldError(field="sku", message=f"unknown sku {body.sku!r}", code="unknown_sku"))
    if body.supplier is not None and not await repo.existing_keys(uow.session, "supplier", [body.supplier]):
        errors.append(
            FieldError(field="supplier", message=f"unknown supplier {body.supplier!r}", code="unknown")
        )
    if body.supplier is not None and body.kind != "buy":
        errors.append(FieldError(field="supplier", message="only a buy order has a supplier"))
    if errors:
        raise ValidationFailed(errors)
    row = await repo.insert_order(
        uow.session,
        {
            "id": new_id("ord"),
            "kind": body.kind,
            "sku": body.sku,
            "quantity": body.quantity,
            "release_date": body.release_date,
            "due_date": body.due_date,
            "status": body.status,
            "supplier": body.supplier,
        },
    )
    await repo.record_changes(uow.session, [body.sku], "order")
    public, data = _public_json(row)
    uow.emit(events.order_changed(data))
    return public


async def _set(uow: UnitOfWork, row: Any, changes: dict[str, Any]) -> tuple[OrderPublic, dict[str, Any]]:
    updated = await repo.update_order(uow.session, row["id"], changes)
    await repo.record_changes(uow.session, [row["sku"]], "order")
    public, data = _public_json(updated)
    uow.emit(events.order_changed(data))
    return public, data


async def step_order(uow: UnitOfWork, request: Request, order_id: str, step: str) -> OrderPublic:
    """firm, start, close, cancel."""
    row = await load_order(uow, order_id, lock=True)
    check_if_match(request, row["version"], f"order {order_id}")
    target = check_transition(row, step)
    public, _ = await _set(uow, row, {"status": target})
    if step == "cancel":
        uow.emit(events.order_cancelled(public.model_dump(mode="json"), str(row["status"])))
    return public


async def component_requirements(
    uow: UnitOfWork, sku: str, quantity: Decimal, at: date
) -> dict[str, Decimal]:
    """One-level explosion from the master-data replica (phantoms passed through)."""
    boms: dict[str, list[Any]] = {}
    phantoms: set[str] = set()
    frontier = [sku]
    while frontier:
        records = await repo.replica_records(uow.session, "bom", frontier)
        lines = {p: bom_lines_of({**rec, "parent": p}) for p, rec in records.items()}
        boms.update(lines)
        components = {ln.component for ls in lines.values() for ln in ls}
        items = await repo.replica_records(uow.session, "item", components)
        new_phantoms = {s for s, rec in items.items() if rec.get("phantom")} - phantoms
        phantoms |= new_phantoms
        frontier = sorted(p for p in new_phantoms if p not in boms)
    return explode_one_level(sku, quantity, at, boms, phantoms)


async def release_order(
    uow: UnitOfWork, request: Request, order_id: str, inventory: InventoryClient
) -> OrderPublic:
    row = await load_order(uow, order_id, lock=True)
    check_if_match(request, row["version"], f"order {order_id}")
    target = check_transition(row, "release")
    components: list[tuple[str, Decimal]] = []
    if row["kind"] == "make":
        required = await component_requirements(
            uow, row["sku"], Decimal(row["quantity"]), row["release_date"]
        )
        if required:
            available = await inventory.availability(sorted(required))
            missing = shortages(required, available)
            if missing:
                raise ComponentShortage(
                    f"order {order_id} cannot be released: {len(missing)} component(s) short",
                    missing=[
                        {k: (number(v) if isinstance(v, Decimal) else v) for k, v in m.items()}
                        for m in missing
                    ],
                )
        components = sorted(required.items())
    public, data = await _set(
        uow,
        row,
        {"status": target, "components": [{"sku": s, "qty": number(q)} for s, q in components]},
    )
    if row["kind"] == "make":
        uow.emit(events.order_released(data, components))
    return public


async def complete_order(
    uow: UnitOfWork, request: Request, order_id: str, body: OrderComplete
) -> OrderPublic:
    row = await load_order(uow, order_id, lock=True)
    check_if_match(request, row["version"], f"order {order_id}")
    target = check_transition(row, "complete")
    public, data = await _set(
        uow, row, {"status": target, "received_qty": Decimal(row["received_qty"]) + body.good_qty}
    )
    uow.emit(events.order_completed(data, body.good_qty, body.location, body.lot))
    return public


async def receive_order(uow: UnitOfWork, request: Request, order_id: str, body: OrderReceive) -> OrderPublic:
    row = await load_order(uow, order_id, lock=True)
    check_if_match(request, row["version"], f"order {order_id}")
    done = check_transition(row, "receive")
    received = Decimal(row["received_qty"]) + body.qty
    status = done if received >= Decimal(row["quantity"]) else row["status"]
    public, data = await _set(uow, row, {"status": status, "received_qty": received})
    unit_cost = body.unit_cost if body.unit_cost is not None else row["unit_price"]
    if unit_cost is None:
        item = await repo.replica_record(uow.session, "item", row["sku"]) or {}
        unit_cost = Decimal(str(item.get("standard_cost") or 0))
    uow.emit(events.purchase_received(data, body.qty, unit_cost, body.location, body.lot))
    return public


def preferred_supplier(
    sku: str, suppliers: Mapping[str, Mapping[str, Any]]
) -> tuple[str, Mapping[str, Any]] | None:
    """The supplier item of ``sku`` with the lowest priority number, then the lowest price, then code."""
    best: tuple[tuple[int, Decimal, str], str, Mapping[str, Any]] | None = None
    for code, supplier in suppliers.items():
        for si in supplier.get("items") or ():
            if si.get("sku") != sku:
                continue
            priority = int(si["priority"]) if si.get("priority") is not None else 1
            key = (priority, Decimal(str(si.get("price") or 0)), code)
            if best is None or key < best[0]:
                best = (key, code, si)
    return (best[1], best[2]) if best else None


def supplier_item(supplier: Mapping[str, Any] | None, sku: str) -> Mapping[str, Any] | None:
    for si in (supplier or {}).get("items") or ():
        if si.get("sku") == sku:
            return dict(si)
    return None


def purchase_quantity(quantity: Decimal, si: Mapping[str, Any]) -> Decimal:
    """Raised to the supplier's minimum order quantity, then to its multiple."""
    q = max(quantity, Decimal(str(si.get("min_order_qty") or 0)))
    multiple = Decimal(str(si.get("multiple") or 0))
    if multiple > 0:
        q = multiple * math.ceil(q / multiple)
    return q


async def group_purchase_orders(uow: UnitOfWork, body: PurchaseGroupRequest) -> PurchaseGroupResult:
    orders = await repo.groupable_buy_orders(uow.session, body.order_ids)
    suppliers = await repo.replica_records(uow.session, "supplier")
    groups: dict[str, list[tuple[Any, Mapping[str, Any]]]] = defaultdict(list)
    unassigned: list[str] = []
    for o in orders:
        chosen: tuple[str, Mapping[str, Any]] | None = None
        if o["supplier"]:
            si = supplier_item(suppliers.get(o["supplier"]), o["sku"])
            chosen = (o["supplier"], si or {})
        else:
            chosen = preferred_supplier(o["sku"], suppliers)
        if chosen is None:
            unassigned.append(o["id"])
        else:
            groups[chosen[0]].append((o, chosen[1]))
    out = []
    for code in sorted(groups):
        po_id = new_id("po")
        await repo.insert_purchase_order(uow.session, po_id, code)
        lines = []
        for o, si in groups[code]:
            qty = purchase_quantity(Decimal(o["quantity"]), si)
            price = Decimal(str(si.get("price") or 0))
            await _set(
                uow,
                o,
                {
                    "status": "firm",
                    "supplier": code,
                    "quantity": qty,
                    "unit_price": price,
                    "purchase_order_id": po_id,
                },
            )
            lines.append(
                PurchaseOrderLine(
                    order_id=o["id"], sku=o["sku"], quantity=qty, unit_price=price, due_date=o["due_date"]
                )
            )
        total = sum((ln.quantity * ln.unit_price for ln in lines), Decimal(0))
        out.append(PurchaseOrderPublic(id=po_id, supplier=code, status="open", lines=lines, total=total))
    return PurchaseGroupResult(purchase_orders=out, unassigned=unassigned)
