"""Events the inventory service consumes and publishes: the contract other services follow.

All events are CloudEvents (``shared.events``); quantities and money are decimal strings or JSON
numbers (both accepted on input; inventory publishes strings). ``location`` defaults to ``MAIN``.

Consumed (durable consumers ``<prefix>-mrp`` and ``<prefix>-scheduler``; a payload that can never
be applied - missing field, unknown sku or location, bad number - is dead-lettered at once):

``jalon.mrp.order.released`` (dataversion 1)
    ``{"order": "MO-1", "kind": "make|buy", "sku": "FG-1", "quantity": 10,
    "components": [{"sku": "RM-1", "qty": 20}], "location": "MAIN"?}``
    Reserves each component for the order (FIFO by receipt date) in ``location`` or anywhere
    nettable when absent. A shortage reserves what is available and publishes
    ``jalon.inventory.reservation.short``. A component already reserved for the order (a
    redelivered or repeated release) is left as it is.

``jalon.scheduler.order.completed`` and ``jalon.mrp.order.completed`` (dataversion 1)
    ``{"order": "MO-1", "sku": "FG-1", "good_qty": 10, "location": "MAIN"?,
    "components_consumed": [{"sku": "RM-1", "qty": 20}]?}``
    Receives ``good_qty`` of the finished good at its standard cost (master data; 0 when it has
    none), reference = the order, once per order whichever of the two events comes first. Then
    backflushes: without ``components_consumed``, every open reservation of the order is
    consumed in full; with it, each listed sku's reservations are consumed up to ``qty`` and
    what they still hold is released.

``jalon.mrp.purchase.received`` (dataversion 1)
    ``{"order": "PO-1", "sku": "RM-1", "qty": 100, "unit_cost": 2.5, "location": "MAIN"?,
    "lot": "L-1"?, "expiry": "2027-01-31"?}``
    A receipt at ``unit_cost``, reference = the order.

Published (stream ``JALON_INVENTORY``, subject = the sku or the order):

``jalon.inventory.stock.changed`` - one per movement::

    {"movement_id", "seq", "type", "sku", "location", "to_location", "lot", "qty", "qty_delta",
     "on_hand", "reserved", "available",            # of (sku, location, lot) after the movement
     "unit_cost", "value_delta", "at", "reference", "reason", "reservation_id",
     "balances": [{"sku", "location", "lot", "qty_delta", "on_hand", "reserved", "available"}]}

  ``balances`` lists every key the movement changed (two for a transfer, the source first).

``jalon.inventory.reservation.created|released|consumed``::

    {"reservation_id", "order", "sku", "requested", "reserved", "held",
     "lines": [{"location", "lot", "qty"}], "qty"?, "movements"?}

``jalon.inventory.reservation.short``::

    {"order", "sku", "requested", "reserved", "missing", "reservation_id" (null if none)}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory import handlers
from services.inventory.db import repositories as repo
from services.inventory.domain.model import MovementType
from services.inventory.domain.reservations import AllocationPolicy
from services.inventory.settings import InventorySettings
from shared.db.platform import OutboxRow
from shared.events import CloudEvent, new_event, stream_name
from shared.messaging.consumer import EventConsumer, PoisonMessage
from shared.web.app import ServiceRuntime
from shared.web.problems import Problem

ORDER_RELEASED = "jalon.mrp.order.released"
MRP_ORDER_COMPLETED = "jalon.mrp.order.completed"
SCHEDULER_ORDER_COMPLETED = "jalon.scheduler.order.completed"
PURCHASE_RECEIVED = "jalon.mrp.purchase.received"


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PoisonMessage(f"data.{key} is missing")
        return None
    return str(value)


def _qty(data: dict[str, Any], key: str, *, where: str = "data", required: bool = True) -> Decimal | None:
    value = data.get(key)
    if value is None:
        if required:
            raise PoisonMessage(f"{where}.{key} is missing")
        return None
    if isinstance(value, bool):
        raise PoisonMessage(f"{where}.{key} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise PoisonMessage(f"{where}.{key} is not a number") from exc
    if not number.is_finite():
        raise PoisonMessage(f"{where}.{key} is not a number")
    return number


def _lines(data: dict[str, Any], key: str) -> list[tuple[str, Decimal]] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise PoisonMessage(f"data.{key} is not a list")
    out = []
    for i, line in enumerate(value):
        if not isinstance(line, dict) or not line.get("sku"):
            raise PoisonMessage(f"data.{key}[{i}].sku is missing")
        qty = _qty(line, "qty", where=f"data.{key}[{i}]")
        assert qty is not None
        out.append((str(line["sku"]), qty))
    return out


class InventoryEvents:
    """The handlers of the events inventory consumes (each runs in the consumer's transaction)."""

    def __init__(self, settings: InventorySettings) -> None:
        self.settings = settings

    async def handle(self, session: AsyncSession, event: CloudEvent) -> None:
        emitted: list[CloudEvent] = []
        try:
            if event.type == ORDER_RELEASED:
                await self.on_mrp_order_released(session, emitted.append, event)
            elif event.type in (MRP_ORDER_COMPLETED, SCHEDULER_ORDER_COMPLETED):
                await self.on_order_completed(session, emitted.append, event)
            elif event.type == PURCHASE_RECEIVED:
                await self.on_mrp_purchase_received(session, emitted.append, event)
            else:
                return
        except Problem as exc:
            if exc.status in (409,) and "insufficient" in str(exc.title).lower():
                raise  # stock may arrive: retried, then dead-lettered
            raise PoisonMessage(f"{exc.title}: {exc.detail}") from exc
        # the consumer's session is the transaction: the outbox rows are written in it
        for out in emitted:
            session.add(OutboxRow(event_id=out.id, subject=out.nats_subject, payload=out.model_dump_json()))

    async def on_mrp_order_released(
        self, session: AsyncSession, emit: handlers.Emit, event: CloudEvent
    ) -> None:
        data = event.data
        order = _text(data, "order")
        assert order is not None
        components = _lines(data, "components") or []
        location = _text(data, "location", required=False)
        for sku, qty in sorted(components):
            if qty <= 0:
                continue
            dedup = f"release:{order}:{sku}"
            if await repo.reservation_by_dedup(session, dedup) is not None:
                continue
            view, missing = await handlers.create_reservation(
                session,
                emit,
                order=order,
                sku=sku,
                qty=qty,
                policy=AllocationPolicy.FIFO,
                allow_partial=True,
                location=location,
                dedup_key=dedup,
            )
            if missing > 0:
                emit(
                    new_event(
                        "inventory",
                        "reservation",
                        "short",
                        {
                            "order": order,
                            "sku": sku,
                            "requested": str(qty),
                            "reserved": str(qty - missing),
                            "missing": str(missing),
                            "reservation_id": view.id if view else None,
                        },
                        subject=order,
                        correlation_id=event.correlationid,
                    )
                )

    async def on_order_completed(self, session: AsyncSession, emit: handlers.Emit, event: CloudEvent) -> None:
        data = event.data
        order = _text(data, "order")
        sku = _text(data, "sku")
        assert order is not None
        assert sku is not None
        good = _qty(data, "good_qty")
        assert good is not None
        location = _text(data, "location", required=False)
        consumed = _lines(data, "components_consumed")
        dedup = f"completion:{order}"
        # the scheduler's and mrp's completion events may be applied at once: one waits here
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": dedup})
        if await repo.movement_by_dedup(session, dedup) is not None:
            return
        ledger = handlers.Ledger(session, emit, self.settings)
        item = (await handlers.require_items(session, [sku]))[sku]
        if good > 0:
            await ledger.book(
                handlers.RecordMovement(
                    type=MovementType.RECEIPT,
                    sku=sku,
                    qty=good,
                    location=location,
                    unit_cost=repo.standard_cost_of(item) or Decimal(0),
                    reference=order,
                ),
                dedup_key=dedup,
                item=item,
            )
        rows = await repo.reservations_of_order(session, order, open_only=True)
        wanted = dict(consumed) if consumed is not None else None
        for row in sorted(rows, key=lambda r: (r.sku, r.id)):
            if wanted is None:
                await handlers.consume_reservation(session, emit, self.settings, row.id, reference=order)
                continue
            view = await handlers.get_reservation(session, row.id)
            take = min(wanted.get(row.sku, Decimal(0)), view.held)
            if take > 0:
                view = await handlers.consume_reservation(
                    session, emit, self.settings, row.id, take, reference=order
                )
                wanted[row.sku] -= take
            if view.status == "open":
                await handlers.release_reservation(session, emit, row.id)

    async def on_mrp_purchase_received(
        self, session: AsyncSession, emit: handlers.Emit, event: CloudEvent
    ) -> None:
        data = event.data
        order = _text(data, "order")
        sku = _text(data, "sku")
        assert sku is not None
        qty = _qty(data, "qty")
        unit_cost = _qty(data, "unit_cost")
        assert qty is not None
        expiry_text = _text(data, "expiry", required=False)
        try:
            expiry = date.fromisoformat(expiry_text) if expiry_text else None
        except ValueError as exc:
            raise PoisonMessage("data.expiry is not a date") from exc
        await handlers.Ledger(session, emit, self.settings).book(
            handlers.RecordMovement(
                type=MovementType.RECEIPT,
                sku=sku,
                qty=qty,
                location=_text(data, "location", required=False),
                lot=_text(data, "lot", required=False),
                expiry=expiry,
                unit_cost=unit_cost,
                reference=order,
            )
        )


def consumers(runtime: ServiceRuntime) -> Sequence[EventConsumer]:
    """The durable consumers of mrp and scheduler events (``create_service_app(consumers=...)``)."""
    settings = runtime.settings
    assert isinstance(settings, InventorySettings)
    assert runtime.nats is not None
    events = InventoryEvents(settings)
    max_deliver = settings.consumer_max_deliver
    return [
        EventConsumer(
            nats=runtime.nats,
            sessionmaker=runtime.sessionmaker,
            durable=f"{settings.consumer_prefix}-mrp",
            stream=stream_name("mrp"),
            subjects=[ORDER_RELEASED, MRP_ORDER_COMPLETED, PURCHASE_RECEIVED],
            handler=events.handle,
            max_deliver=max_deliver,
        ),
        EventConsumer(
            nats=runtime.nats,
            sessionmaker=runtime.sessionmaker,
            durable=f"{settings.consumer_prefix}-scheduler",
            stream=stream_name("scheduler"),
            subjects=[SCHEDULER_ORDER_COMPLETED],
            handler=events.handle,
            max_deliver=max_deliver,
        ),
    ]
