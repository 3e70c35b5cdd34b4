"""The replica of mrp's order book: mrp's order events published on the session's real NATS are
applied by capacity's consumer in order (by the order's version; an older event after a newer one
changes nothing), and an analysis of ``firm+released`` reads the replica and records its position.

Same plant as ``test_analyses`` (MILL, the week of 2026-03-02): O1 (100 FRAME) firm and O2 released
with 50 of 80 left load Friday with 1810 minutes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.capacity import events as capacity_events
from services.capacity.orders import apply_order_event
from shared.events import CloudEvent, new_event, stream_name
from shared.messaging.consumer import EventConsumer
from tests.harness import Infra
from tests.integration.capacity.conftest import Capacity, eventually
from tests.integration.capacity.test_analyses import O1, O2, WEEK, seed_plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


def order(
    oid: str, version: int, status: str, *, kind: str = "make", base: dict[str, Any] = O1, **extra: Any
) -> dict[str, Any]:
    """An order as mrp's API answers it (``OrderPublic``), which is ``order.changed``'s data."""
    quantity = float(extra.pop("quantity", base["quantity"]))
    return {
        "id": oid,
        "kind": kind,
        "sku": base["sku"],
        "quantity": quantity,
        "received_qty": 0,
        "remaining_qty": quantity,
        "release_date": base["release_date"],
        "due_date": base["due_date"],
        "status": status,
        "supplier": None,
        "source_run": None,
        "source_planned_order": None,
        "components": None,
        "version": version,
        "created_at": "2026-02-20T08:00:00Z",
        "updated_at": "2026-02-20T08:00:00Z",
        **extra,
    }


def changed(data: dict[str, Any]) -> CloudEvent:
    return new_event("mrp", "order", "changed", data, subject=str(data["id"]))


def cancelled(oid: str, status_before: str) -> CloudEvent:
    data = {"order": oid, "order_id": oid, "sku": "FRAME", "status_before": status_before}
    return new_event("mrp", "order", "cancelled", data, subject=oid)


class Mrp:
    """Publishes as mrp's outbox relay does: on JALON_MRP, ``Nats-Msg-Id`` = the event id."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.published = 0

    async def publish(self, *events: CloudEvent) -> None:
        for event in events:
            await self.js.publish(event.type, event.to_bytes(), headers={"Nats-Msg-Id": event.id})
            self.published += 1


@pytest.fixture
async def replica(capacity: Capacity, infra: Infra) -> AsyncIterator[tuple[Capacity, Mrp, EventConsumer]]:
    """The capacity app with its order consumer running (a durable of its own on the shared stream,
    drained of what other tests published before, the replica then emptied)."""
    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    runtime = capacity.app.state.runtime
    durable = f"capacity-orders-test-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        nats=runtime.nats,
        sessionmaker=runtime.sessionmaker,
        durable=durable,
        stream=stream_name("mrp"),
        subjects=capacity_events.ORDER_SUBJECTS,
        handler=apply_order_event,
        max_deliver=2,
        backoff_s=(0.05,),
    )
    consumer.start()

    async def drained() -> bool:
        try:
            info = await js.consumer_info(stream_name("mrp"), durable)
        except NotFoundError:
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(drained)
    await capacity.sql("DELETE FROM order_replica")
    await capacity.sql("DELETE FROM order_replica_state")
    try:
        yield capacity, Mrp(js), consumer
    finally:
        await consumer.stop()
        await js.delete_consumer(stream_name("mrp"), durable)
        await nc.close()


async def state(c: Capacity) -> dict[str, Any]:
    r = await c.client.get("/v1/capacity/orders")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def settled(c: Capacity, events: int) -> dict[str, Any]:
    """The replica once it has seen ``events`` events (applied or ignored)."""

    async def seen() -> dict[str, Any] | None:
        body = await state(c)
        replica = body["replica"]
        return body if replica["events_applied"] + replica["events_ignored"] >= events else None

    return dict(await eventually(seen))


async def test_order_events_are_applied_in_version_order_and_an_older_one_changes_nothing(
    replica: tuple[Capacity, Mrp, EventConsumer],
) -> None:
    c, mrp, _ = replica
    o2_v1 = changed(order("O2", 1, "planned", base=O2, quantity=80))
    await mrp.publish(
        changed(order("O1", 1, "planned")),
        o2_v1,
        changed(order("O1", 2, "firm")),
        changed(order("O2", 2, "firm", base=O2, quantity=80)),
        changed(order("O2", 3, "released", base=O2, quantity=80, received_qty=30, remaining_qty=50)),
    )
    body = await settled(c, 5)
    assert body["replica"]["position"] == 5
    # Late and older: the v1 of O2 published again (a new event id, so past the inbox) and an
    # older O1: both are ignored by version.
    await mrp.publish(changed({**o2_v1.data}), changed(order("O1", 1, "planned", quantity=999)))
    body = await settled(c, 7)
    assert body["replica"]["events_ignored"] == 2
    assert body["replica"]["position"] == 5
    held = {o["id"]: (o["status"], o["version"], o["remaining_qty"]) for o in body["items"]}
    assert held == {"O1": ("firm", 2, 100), "O2": ("released", 3, 50)}

    # The same event delivered twice: the consumer's inbox drops it.
    again = changed(order("O1", 3, "firm", quantity=120))
    await mrp.publish(again)
    await mrp.js.publish(again.type, again.to_bytes())  # no Nats-Msg-Id: JetStream keeps it
    body = await settled(c, 8)
    await eventually(lambda: _duplicates(replica[2]) >= 1)
    assert (await c.client.get("/v1/capacity/orders/O1")).json()["quantity"] == 120
    assert (await state(c))["replica"]["position"] == 6


def _duplicates(consumer: EventConsumer) -> int:
    return consumer.duplicates


async def test_a_cancellation_is_final_even_when_it_overtakes_the_order(
    replica: tuple[Capacity, Mrp, EventConsumer],
) -> None:
    c, mrp, consumer = replica
    await mrp.publish(
        changed(order("C1", 1, "firm")),
        cancelled("C1", "firm"),
        changed(order("C1", 2, "cancelled")),
        cancelled("C2", "planned"),  # before any changed event of C2
        changed(order("C2", 1, "planned")),
        changed(order("C2", 2, "firm")),  # older than its cancellation in mrp: stays cancelled
    )
    body = await settled(c, 6)
    held = {o["id"]: (o["status"], o["cancelled"], o["version"]) for o in body["items"]}
    assert held == {"C1": ("cancelled", True, 2), "C2": ("cancelled", True, 2)}
    # An order.changed without a version cannot be ordered: dead-lettered, nothing applied.
    no_version = order("C3", 1, "firm")
    del no_version["version"]
    await mrp.publish(changed(no_version))
    await eventually(lambda: consumer.dead_lettered >= 1)
    assert (await c.client.get("/v1/capacity/orders/C3")).status_code == 404


async def test_an_analysis_of_the_order_book_reads_the_replica_and_records_its_position(
    replica: tuple[Capacity, Mrp, EventConsumer],
) -> None:
    c, mrp, _ = replica
    await seed_plant(c)
    await mrp.publish(
        changed(order("O1", 1, "firm")),
        changed(order("O2", 4, "released", base=O2, quantity=80, received_qty=30, remaining_qty=50)),
        changed(order("P1", 1, "firm", kind="buy")),
        changed(order("O9", 1, "planned")),  # planned: not in the book's firm+released
        changed(order("O8", 1, "firm")),
        cancelled("O8", "firm"),
    )
    body = await settled(c, 6)
    position = body["replica"]["position"]
    result = await c.analyse({"source": {"orders": "firm+released"}, **WEEK})
    assert result["source"]["orders"] == "firm+released"
    assert result["source"]["order_replica"] == {"position": position, "synced_at": None}
    assert result["counts"]["orders"] == 2
    assert result["counts"]["buy_orders_skipped"] == 1
    loads = {
        c_["bucket_start"]: c_["load_minutes"] for c_ in await c.items(f"{result['links']['self']}/load")
    }
    assert loads["2026-03-06"] == pytest.approx(1810)  # O2 counts for its remaining 50
    ops = await c.items(f"{result['links']['self']}/operations")
    assert {o["order"] for o in ops} == {"O1", "O2"}

    # Later events do not change the analysis (its inputs are stored), but the next one sees them.
    await mrp.publish(changed(order("O1", 2, "released", received_qty=60, remaining_qty=40)))
    await settled(c, 7)
    later = await c.analyse({"source": {"orders": "firm+released"}, **WEEK})
    assert later["source"]["order_replica"]["position"] == position + 1
    assert later["counts"]["orders"] == 2
    assert result["counts"] == (await c.client.get(result["links"]["self"])).json()["counts"]


async def test_firming_is_refused_for_other_sources_and_while_overloads_remain(capacity: Capacity) -> None:
    await seed_plant(capacity)
    inline = await capacity.analyse({"source": {"orders": [O1, O2]}, **WEEK})
    r = await capacity.client.post(f"{inline['links']['self']}/firm", json={})
    assert r.status_code == 409, r.text
    assert "not of an mrp run" in r.json()["detail"]
    assert inline["links"]["firm"] is None
    # The same analysis as if it had been of an mrp run: it has one overload.
    await capacity.sql(
        'UPDATE analyses SET source = CAST(\'{"mrp_run": "run-x"}\' AS jsonb) WHERE id = :id', id=inline["id"]
    )
    url = f"{inline['links']['self']}/firm"
    refused = await capacity.client.post(url, json={"orders": ["O1"]})
    assert refused.status_code == 409, refused.text
    assert refused.json()["overloads"] == 1
    bad = await capacity.client.post(url, json={"orders": ["O1", "NOPE", "O1"], "force": True})
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["orders[1]", "orders[2]"]
    # Forced, with mrp away: each order is reported failed, nothing else breaks.
    forced = await capacity.client.post(url, json={"force": True})
    assert forced.status_code == 200, forced.text
    body = forced.json()
    assert (body["forced"], body["failed"], body["firmed"]) == (True, 2, 0)
    assert {o["planned_order"] for o in body["orders"]} == {"O1", "O2"}
    assert all("did not answer" in o["detail"] for o in body["orders"])
    missing = await capacity.client.post("/v1/capacity/analyses/ca_nope/firm")
    assert missing.status_code == 404
