"""Outbox → JetStream → inbox, against the real servers, with nats-server killed on purpose."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import nats
import pytest
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.engine import SessionMaker, create_engine_for, make_sessionmaker
from shared.db.uow import UnitOfWork
from shared.events import DLQ_STREAM, CloudEvent, new_event, stream_name
from shared.messaging.connection import NatsConnection
from shared.messaging.consumer import EventConsumer, PoisonMessage
from shared.messaging.relay import OutboxRelay
from tests.harness import Infra

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def eventually(check: Callable[[], bool | Awaitable[bool]], within_s: float = 15.0) -> None:
    """Wait until ``check()`` (plain or awaitable) is true; fail after ``timeout`` seconds."""

    async def holds() -> bool:
        result = check()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if await holds():
            return
        await asyncio.sleep(0.1)
    assert await holds(), "condition not met in time"


class Side:
    """One service's database with the platform tables, plus a table for effects."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sessionmaker: SessionMaker = make_sessionmaker(engine)

    async def count(self, sql: str) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())


@pytest.fixture
async def side(infra: Infra) -> AsyncIterator[Side]:
    _name, url = infra.new_database("inventory")
    engine = create_engine_for(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE things (id text PRIMARY KEY)"))
        await conn.execute(text("CREATE TABLE effects (event_id text, thing text)"))
    yield Side(engine)
    await engine.dispose()


@pytest.fixture
async def nats_conn(infra: Infra) -> AsyncIterator[NatsConnection]:
    conn = NatsConnection(infra.nats_url, name="test")
    conn.start()
    await asyncio.wait_for(conn.wait_connected(), 10)
    yield conn
    await conn.close()


def aggregate() -> str:
    """A subject segment of its own, so that tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:12]}"


async def record_effect(session: AsyncSession, event: CloudEvent) -> None:
    await session.execute(
        text("INSERT INTO effects (event_id, thing) VALUES (:e, :t)"),
        {"e": event.id, "t": event.data["thing"]},
    )


def consumer_for(
    side: Side, conn: NatsConnection, agg: str, handler=record_effect, max_deliver: int = 5
) -> EventConsumer:
    return EventConsumer(
        nats=conn,
        sessionmaker=side.sessionmaker,
        durable=f"test-{agg}",
        stream=stream_name("inventory"),
        subjects=[f"jalon.inventory.{agg}.>"],
        handler=handler,
        max_deliver=max_deliver,
        backoff_s=(0.05,),
    )


async def create_thing(side: Side, relay: OutboxRelay | None, agg: str, thing: str) -> CloudEvent:
    event = new_event("inventory", agg, "created", {"thing": thing}, subject=thing)
    async with UnitOfWork(side.sessionmaker, on_commit=relay.wake if relay else None) as uow:
        await uow.session.execute(text("INSERT INTO things (id) VALUES (:i)"), {"i": thing})
        uow.emit(event)
        await uow.commit()
    return event


async def test_committed_event_reaches_consumer_exactly_once_when_nats_dies_between_commit_and_publish(
    infra: Infra, side: Side, nats_conn: NatsConnection
) -> None:
    agg = aggregate()
    relay = OutboxRelay(side.sessionmaker, nats_conn, poll_interval_s=0.1)
    event = await create_thing(side, None, agg, "A-1")  # committed; not yet published

    infra.kill_nats()
    await eventually(lambda: not nats_conn.is_connected)
    assert await relay.publish_pending() == 0
    assert await side.count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1

    infra.start_nats()
    await asyncio.wait_for(nats_conn.wait_connected(), 10)
    await eventually(lambda: nats_conn.is_connected)
    relay.start()
    consumer = consumer_for(side, nats_conn, agg)
    consumer.start()
    try:
        await eventually(lambda: side_count_is(side, 1))
        # A crash between publish and "mark sent" publishes the row again: still applied once.
        async with side.engine.begin() as conn:
            await conn.execute(text("UPDATE outbox SET published_at = NULL"))
        relay.wake()
        await eventually(lambda: side_pending_is(side, 0))
        await asyncio.sleep(1.0)
        assert await side.count("SELECT count(*) FROM effects") == 1
        assert await side.count(f"SELECT count(*) FROM effects WHERE event_id = '{event.id}'") == 1
    finally:
        await consumer.stop()
        await relay.stop()


async def side_count_is(side: Side, n: int) -> bool:
    return await side.count("SELECT count(*) FROM effects") == n


async def side_pending_is(side: Side, n: int) -> bool:
    return await side.count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == n


async def test_rolled_back_transaction_publishes_nothing(side: Side, nats_conn: NatsConnection) -> None:
    agg = aggregate()
    relay = OutboxRelay(side.sessionmaker, nats_conn)
    async with UnitOfWork(side.sessionmaker, on_commit=relay.wake) as uow:
        await uow.session.execute(text("INSERT INTO things (id) VALUES ('B-1')"))
        uow.emit(new_event("inventory", agg, "created", {"thing": "B-1"}))
        # leaving without commit: rolled back
    with pytest.raises(ValueError, match="boom"):
        await emit_then_fail(side, relay, agg)
    assert await relay.publish_pending() == 0
    assert await side.count("SELECT count(*) FROM outbox") == 0
    assert await side.count("SELECT count(*) FROM things") == 0
    js = nats_conn.jetstream()
    info = await js.stream_info(stream_name("inventory"), subjects_filter=f"jalon.inventory.{agg}.>")
    assert not info.state.subjects


async def emit_then_fail(side: Side, relay: OutboxRelay, agg: str) -> None:
    async with UnitOfWork(side.sessionmaker, on_commit=relay.wake) as uow:
        uow.emit(new_event("inventory", agg, "created", {"thing": "B-2"}))
        raise ValueError("boom")


async def test_redelivered_event_is_applied_once(side: Side, nats_conn: NatsConnection) -> None:
    agg = aggregate()
    event = new_event("inventory", agg, "created", {"thing": "C-1"})
    js = nats_conn.jetstream()
    # The same event twice under different message ids: the stream keeps both, the inbox one.
    await js.publish(event.nats_subject, event.to_bytes(), headers={"Nats-Msg-Id": "x1-" + event.id})
    await js.publish(event.nats_subject, event.to_bytes(), headers={"Nats-Msg-Id": "x2-" + event.id})
    consumer = consumer_for(side, nats_conn, agg)
    consumer.start()
    try:
        await eventually(lambda: consumer.applied + consumer.duplicates == 2)
    finally:
        await consumer.stop()
    assert consumer.applied == 1
    assert consumer.duplicates == 1
    assert await side.count("SELECT count(*) FROM effects") == 1


async def test_poison_message_ends_in_the_dead_letter_subject(side: Side, nats_conn: NatsConnection) -> None:
    agg = aggregate()
    calls = 0

    async def always_fails(session: AsyncSession, event: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        await record_effect(session, event)  # written, then rolled back by the failure
        raise RuntimeError("cannot apply this")

    async def refuses(session: AsyncSession, event: CloudEvent) -> None:
        raise PoisonMessage("unknown payload version")

    js = nats_conn.jetstream()
    bad = new_event("inventory", agg, "created", {"thing": "D-1"})
    await js.publish(bad.nats_subject, bad.to_bytes())
    await js.publish(f"jalon.inventory.{agg}.garbage", b"not json at all")
    consumer = consumer_for(side, nats_conn, agg, handler=always_fails, max_deliver=3)
    consumer.start()
    try:
        await eventually(lambda: consumer.dead_lettered == 2)
    finally:
        await consumer.stop()
    assert calls == 3
    assert await side.count("SELECT count(*) FROM effects") == 0
    assert await side.count("SELECT count(*) FROM inbox") == 0

    agg2 = aggregate()
    poison = new_event("inventory", agg2, "created", {"thing": "D-2"})
    await js.publish(poison.nats_subject, poison.to_bytes())
    consumer2 = consumer_for(side, nats_conn, agg2, handler=refuses, max_deliver=5)
    consumer2.start()
    try:
        await eventually(lambda: consumer2.dead_lettered == 1)
    finally:
        await consumer2.stop()

    sub = await js.subscribe("jalon.dlq.>", stream=DLQ_STREAM, ordered_consumer=True)
    seen: dict[str, list[Msg]] = {}
    try:
        while True:
            msg = await sub.next_msg(timeout=2)
            seen.setdefault((msg.headers or {}).get("Jalon-Consumer", ""), []).append(msg)
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    first = seen[f"test-{agg}"]
    headers = [m.headers or {} for m in first]
    assert len(first) == 2
    by_subject = {h["Jalon-Original-Subject"]: (h, m) for h, m in zip(headers, first, strict=True)}
    bad_headers, bad_msg = by_subject[bad.nats_subject]
    assert "cannot apply this" in bad_headers["Jalon-Error"]
    assert bad_headers["Jalon-Deliveries"] == "3"
    assert CloudEvent.from_bytes(bad_msg.data).id == bad.id
    assert "not a CloudEvent" in by_subject[f"jalon.inventory.{agg}.garbage"][0]["Jalon-Error"]
    (only,) = seen[f"test-{agg2}"]
    only_headers = only.headers or {}
    assert only_headers["Jalon-Deliveries"] == "1"
    assert "unknown payload version" in only_headers["Jalon-Error"]
