"""Events of the mrp service: what it emits (payload builders) and what it consumes.

Emitted (``jalon.mrp.<aggregate>.<event>``, stream ``JALON_MRP``; decimals as JSON numbers):

- ``sales_order.created|changed|cancelled``: the order as the API answers it
  ``{id, number, customer, status, source, version, lines: [{line, sku, qty, due_date, status}]}``.
- ``order.changed``: every change of an order of the book, the order as the API answers it.
  The payloads below follow ``services/inventory/events.py`` (``order`` is the order id; the
  same id is also under ``order_id``); optional fields are left out when unknown.
- ``order.released``: ``{order, order_id, kind, sku, quantity, release_date, due_date,
  components: [{sku, qty}]}`` — inventory reserves the components for ``order``.
- ``order.completed``: ``{order, order_id, sku, good_qty, quantity, location?, lot?}`` —
  inventory receives ``good_qty`` and consumes the order's open reservations in full.
- ``order.cancelled``: ``{order, order_id, sku, status_before}``.
- ``purchase.received``: ``{order, order_id, purchase_order_id?, supplier?, sku, qty, unit_cost,
  location?, lot?}`` — inventory books the receipt (``unit_cost``: the one given, else the order's
  supplier price, else the item's standard cost, else 0).
- ``run.completed``: ``{id, mode, status, counts}``.

Consumed:

- ``jalon.inventory.stock.changed`` (one per movement, ``seq`` = the ledger sequence) → the local
  stock replica (``stock_positions``): every entry of ``balances`` (else the event's own position)
  is applied only when ``seq`` is newer than the one held for that (sku, location, lot); each
  applied sku is recorded as changed for net change. Events carry no ``nettable`` flag: a position
  takes its location's flag as the replica knows it (from the last resync), else nettable.
- ``jalon.inventory.reservation.*`` change ``reserved`` without a movement: the sku's balances are
  read again from inventory (``GET /v1/inventory/balances?sku=``) and replace its positions.
- master-data events feed the replica (``shared.replica``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.mrp.api.schemas import number
from services.mrp.db import repositories as repo
from services.mrp.handlers.stock import InventoryClient
from shared.events import CloudEvent, new_event
from shared.messaging.consumer import EventConsumer, PoisonMessage
from shared.web.app import ServiceRuntime

PRODUCER = "mrp"
STOCK_SUBJECT = "jalon.inventory.stock.changed"
RESERVATION_SUBJECTS = "jalon.inventory.reservation.*"


def sales_order_event(event: str, order: dict[str, Any]) -> CloudEvent:
    return new_event(PRODUCER, "sales_order", event, order, subject=str(order["id"]))


def order_changed(order: dict[str, Any]) -> CloudEvent:
    return new_event(PRODUCER, "order", "changed", order, subject=str(order["id"]))


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Optional fields are left out rather than sent as null."""
    return {k: v for k, v in data.items() if v is not None}


def order_released(order: dict[str, Any], components: Sequence[tuple[str, Decimal]]) -> CloudEvent:
    return new_event(
        PRODUCER,
        "order",
        "released",
        {
            "order": order["id"],
            "order_id": order["id"],
            "kind": order["kind"],
            "sku": order["sku"],
            "quantity": order["quantity"],
            "release_date": order["release_date"],
            "due_date": order["due_date"],
            "components": [{"sku": s, "qty": number(q)} for s, q in components],
        },
        subject=str(order["id"]),
    )


def order_completed(
    order: dict[str, Any], good_qty: Decimal, location: str | None, lot: str | None
) -> CloudEvent:
    return new_event(
        PRODUCER,
        "order",
        "completed",
        _compact(
            {
                "order": order["id"],
                "order_id": order["id"],
                "sku": order["sku"],
                "good_qty": number(good_qty),
                "quantity": order["quantity"],
                "location": location,
                "lot": lot,
            }
        ),
        subject=str(order["id"]),
    )


def order_cancelled(order: dict[str, Any], status_before: str) -> CloudEvent:
    return new_event(
        PRODUCER,
        "order",
        "cancelled",
        {"order": order["id"], "order_id": order["id"], "sku": order["sku"], "status_before": status_before},
        subject=str(order["id"]),
    )


def purchase_received(
    order: dict[str, Any], qty: Decimal, unit_cost: Decimal, location: str | None, lot: str | None
) -> CloudEvent:
    return new_event(
        PRODUCER,
        "purchase",
        "received",
        _compact(
            {
                "order": order["id"],
                "order_id": order["id"],
                "purchase_order_id": order.get("purchase_order_id"),
                "supplier": order.get("supplier"),
                "sku": order["sku"],
                "qty": number(qty),
                "unit_cost": number(unit_cost),
                "location": location,
                "lot": lot,
            }
        ),
        subject=str(order["id"]),
    )


def run_completed(run_id: str, mode: str, status: str, counts: dict[str, int]) -> CloudEvent:
    return new_event(
        PRODUCER,
        "run",
        "completed",
        {"id": run_id, "mode": mode, "status": status, "counts": counts},
        subject=run_id,
    )


# -- consumed --------------------------------------------------------------------------------------


def _positions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The positions an event carries: ``balances`` (every key a movement changed), else
    ``positions``, else the event itself; each with the event's sequence unless it has its own."""
    for key in ("balances", "positions"):
        if isinstance(data.get(key), list):
            common = {k: v for k, v in data.items() if k not in ("balances", "positions")}
            return [{**common, **p} for p in data[key]]
    return [data]


def _seq(p: dict[str, Any]) -> int:
    for key in ("seq", "movement_seq", "sequence"):
        if p.get(key) is not None:
            return int(p[key])
    raise PoisonMessage("stock.changed without a sequence (seq)")


async def on_inventory_stock_changed(session: AsyncSession, event: CloudEvent) -> None:
    """Apply each position the movement changed, when newer than the replica's."""
    changed: set[str] = set()
    for p in _positions(event.data):
        try:
            sku, location = str(p["sku"]), str(p["location"])
            on_hand = Decimal(str(p["on_hand"]))
            reserved = Decimal(str(p.get("reserved") or 0))
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise PoisonMessage(f"stock.changed position is not readable: {exc!r}") from exc
        nettable = p.get("nettable")
        if nettable is None:
            nettable = await repo.location_nettable(session, location)
        applied = await repo.apply_stock_position(
            session,
            sku=sku,
            location=location,
            lot=str(p.get("lot") or ""),
            on_hand=on_hand,
            reserved=reserved,
            nettable=bool(nettable),
            seq=_seq(p),
        )
        if applied:
            changed.add(sku)
    await repo.record_changes(session, changed, "stock")


def reservation_handler(inventory: InventoryClient) -> Any:
    """Reservations change ``reserved`` without a movement: re-read the sku's balances."""

    async def on_inventory_reservation_changed(session: AsyncSession, event: CloudEvent) -> None:
        sku = event.data.get("sku")
        if not sku:
            raise PoisonMessage("reservation event without a sku")
        rows = await inventory.positions(str(sku))
        await repo.replace_stock_of(session, str(sku), rows)
        await repo.record_changes(session, [str(sku)], "reservation")

    return on_inventory_reservation_changed


def consumers(runtime: ServiceRuntime) -> list[EventConsumer]:
    assert runtime.nats is not None
    settings = runtime.settings
    inventory = InventoryClient(settings.service_url("inventory"))
    return [
        EventConsumer(
            nats=runtime.nats,
            sessionmaker=runtime.sessionmaker,
            durable="mrp-inventory-stock",
            stream="JALON_INVENTORY",
            subjects=[STOCK_SUBJECT],
            handler=on_inventory_stock_changed,
            max_deliver=settings.consumer_max_deliver,
        ),
        EventConsumer(
            nats=runtime.nats,
            sessionmaker=runtime.sessionmaker,
            durable="mrp-inventory-reservations",
            stream="JALON_INVENTORY",
            subjects=[RESERVATION_SUBJECTS],
            handler=reservation_handler(inventory),
            max_deliver=settings.consumer_max_deliver,
        ),
    ]
