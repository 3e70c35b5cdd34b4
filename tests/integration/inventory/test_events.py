"""Events in (mrp, scheduler) through real NATS JetStream, and stock.changed out through the relay."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest

from services.inventory.events import consumers
from shared.events import CloudEvent, new_event
from shared.messaging.relay import OutboxRelay
from tests.harness import Infra
from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def eventually(check: Callable[[], Awaitable[bool] | bool], within_s: float = 20.0) -> None:
    async def holds() -> bool:
        result = check()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if await holds():
            return
        await asyncio.sleep(0.1)
    assert await holds(), "condition not met in time"


@pytest.fixture
async def wired(inv: Inventory) -> AsyncIterator[Inventory]:
    """The inventory consumers started on a durable name of their own (the session's NATS is shared)."""
    runtime = inv.app.state.runtime
    runtime.settings.consumer_prefix = f"test-{uuid.uuid4().hex[:10]}"
    started = list(consumers(runtime))
    for consumer in started:
        consumer._backoff = [0.1]
        consumer.start()
    inv.app.state.test_consumers = started
    yield inv
    for consumer in started:
        await consumer.stop()


async def publish(infra: Infra, event: CloudEvent) -> None:
    nc = await nats.connect(infra.nats_url)
    try:
        await nc.jetstream().publish(event.type, event.to_bytes(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_a_released_order_reserves_its_components_and_reports_a_shortage(
    wired: Inventory, infra: Infra
) -> None:
    inv = wired
    rm1, rm2, order = unique("RM"), unique("RM"), unique("MO")
    await inv.item(rm1)
    await inv.item(rm2)
    await inv.ok(type="receipt", sku=rm1, qty=50, unit_cost=1)
    await inv.ok(type="receipt", sku=rm2, qty=3, unit_cost=1)
    event = new_event(
        "mrp",
        "order",
        "released",
        {
            "order": order,
            "kind": "make",
            "sku": "FG",
            "quantity": 10,
            "components": [{"sku": rm1, "qty": 20}, {"sku": rm2, "qty": "5"}],
        },
        subject=order,
    )
    await publish(infra, event)
    await publish(infra, event)  # a duplicate: the inbox drops it

    async def reserved() -> bool:
        return len(await inv.sql("SELECT 1 FROM reservations WHERE order_ref = :o", o=order)) == 2

    await eventually(reserved)
    listed = await inv.client.get("/v1/inventory/reservations", params={"order": order})
    held = {r["sku"]: (r["reserved"], r["short"]) for r in listed.json()["items"]}
    assert held == {rm1: (20, 0), rm2: (3, 2)}
    short = await inv.outbox("jalon.inventory.reservation.short")
    assert [(e["data"]["sku"], e["data"]["missing"]) for e in short] == [(rm2, "2")]

    # completion: the finished good comes in at standard, the reservations are backflushed
    fg = unique("FG")
    await inv.item(fg, standard_cost="12.50")
    done = new_event("scheduler", "order", "completed", {"order": order, "sku": fg, "good_qty": 10})
    await publish(infra, done)
    again = new_event("mrp", "order", "completed", {"order": order, "sku": fg, "good_qty": 10})
    await publish(infra, again)

    async def completed() -> bool:
        rows = await inv.sql("SELECT status FROM reservations WHERE order_ref = :o", o=order)
        return {r[0] for r in rows} == {"consumed"}

    await eventually(completed)
    await asyncio.sleep(0.5)
    assert await inv.on_hand(fg) == 10
    assert await inv.on_hand(rm1) == 30
    assert await inv.on_hand(rm2) == 0
    receipts = await inv.client.get("/v1/inventory/movements", params={"sku": fg})
    assert [(m["type"], m["unit_cost"], m["reference"]) for m in receipts.json()["items"]] == [
        ("receipt", 12.5, order)
    ]


async def test_a_purchase_receipt_event_books_a_receipt_and_a_bad_one_is_dead_lettered(
    wired: Inventory, infra: Infra
) -> None:
    inv = wired
    sku, po = unique("RM"), unique("PO")
    await inv.item(sku)
    good = new_event(
        "mrp",
        "purchase",
        "received",
        {"order": po, "sku": sku, "qty": 40, "unit_cost": "2.25", "location": "MAIN", "lot": "L7"},
    )
    bad = new_event("mrp", "purchase", "received", {"order": po, "sku": "NOPE", "qty": 1, "unit_cost": 1})
    await publish(infra, bad)
    await publish(infra, good)

    async def received() -> bool:
        return await inv.on_hand(sku, lot="L7") == 40

    await eventually(received)
    durable = next(c.durable for c in inv.app.state.test_consumers if c.durable.endswith("-mrp"))
    nc = await nats.connect(infra.nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(f"jalon.dlq.{durable}", stream="JALON_DLQ")
        dead: set[str] = set()

        async def dead_lettered() -> bool:
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                return bad.id in dead
            for msg in msgs:
                dead.add(json.loads(msg.data)["id"])
                await msg.ack()
            return bad.id in dead

        await eventually(dead_lettered)
    finally:
        await nc.close()
    movements = (await inv.client.get("/v1/inventory/movements", params={"sku": sku})).json()["items"]
    assert [(m["qty"], m["unit_cost"], m["reference"]) for m in movements] == [(40, 2.25, po)]
    assert await inv.scalar("SELECT count(*) FROM movements WHERE sku = 'NOPE'") == 0


async def test_a_movement_publishes_stock_changed_on_nats(inv: Inventory, infra: Infra) -> None:
    sku = unique("RM")
    await inv.item(sku)
    runtime = inv.app.state.runtime
    nc = await nats.connect(infra.nats_url)
    got: list[dict[str, Any]] = []

    async def on_message(msg: Any) -> None:
        event = json.loads(msg.data)
        if event["data"]["sku"] == sku:
            got.append(event)

    await nc.subscribe("jalon.inventory.stock.changed", cb=on_message)
    relay = OutboxRelay(runtime.sessionmaker, runtime.nats, poll_interval_s=0.1)
    relay.start()
    try:
        moved = await inv.ok(type="receipt", sku=sku, qty=3, unit_cost=1)
        await eventually(lambda: len(got) == 1)
        assert got[0]["data"]["movement_id"] == moved["id"]
        assert got[0]["data"]["on_hand"] == "3"
    finally:
        await relay.stop()
        await nc.close()
