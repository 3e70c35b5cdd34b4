"""Durable JetStream pull consumers with an inbox: each event is applied once, in one transaction
with its effect. A failing event is retried with back-off up to ``max_deliver`` times, then moved
to the dead-letter subject ``jalon.dlq.<durable>`` with the error, and acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.engine import SessionMaker
from shared.db.platform import InboxRow
from shared.events import DLQ_PREFIX, CloudEvent
from shared.logging import get_logger
from shared.messaging.connection import NatsConnection

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for an event that can never be applied: dead-lettered at once."""


class EventConsumer:
    def __init__(
        self,
        *,
        nats: NatsConnection,
        sessionmaker: SessionMaker,
        durable: str,
        stream: str,
        subjects: Sequence[str],
        handler: EventHandler,
        max_deliver: int = 5,
        ack_wait_s: float = 30.0,
        batch: int = 50,
        backoff_s: Sequence[float] = (0.2, 1.0, 5.0, 15.0),
    ):
        self._nats = nats
        self._sessionmaker = sessionmaker
        self.durable = durable
        self.stream = stream
        self.subjects = list(subjects)
        self._handler = handler
        self.max_deliver = max_deliver
        self._ack_wait = ack_wait_s
        self._batch = batch
        self._backoff = list(backoff_s)
        self._task: asyncio.Task[None] | None = None
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0

    @property
    def dlq_subject(self) -> str:
        return f"{DLQ_PREFIX}.{self.durable}"

    def _config(self) -> ConsumerConfig:
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
            max_deliver=-1,  # bounded by this class, which dead-letters on the last try
            max_ack_pending=1000,
        )
        if len(self.subjects) == 1:
            config.filter_subject = self.subjects[0]
        else:
            config.filter_subjects = self.subjects
        return config

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        js = self._nats.jetstream()
        try:
            await js.consumer_info(self.stream, self.durable)
        except NotFoundError:
            await js.add_consumer(self.stream, self._config())
        return await js.pull_subscribe_bind(durable=self.durable, stream=self.stream)

    async def handle(self, msg: Msg) -> None:
        delivered = msg.metadata.num_delivered
        try:
            event = CloudEvent.from_bytes(msg.data)
        except Exception as exc:
            await self._dead_letter(msg, f"not a CloudEvent: {exc}")
            return
        try:
            async with self._sessionmaker() as session, session.begin():
                inserted = await session.execute(
                    insert(InboxRow)
                    .values(consumer=self.durable, event_id=event.id)
                    .on_conflict_do_nothing()
                    .returning(col(InboxRow.event_id))
                )
                if inserted.first() is None:
                    self.duplicates += 1
                else:
                    await self._handler(session, event)
                    self.applied += 1
        except PoisonMessage as exc:
            await self._dead_letter(msg, str(exc), event)
            return
        except Exception as exc:
            if delivered >= self.max_deliver:
                await self._dead_letter(msg, f"{type(exc).__name__}: {exc}", event)
                return
            delay = self._backoff[min(delivered - 1, len(self._backoff) - 1)]
            log.warning(
                "event handling failed; will retry",
                consumer=self.durable,
                event_id=event.id,
                attempt=delivered,
                error=str(exc),
            )
            await msg.nak(delay=delay)
            return
        await msg.ack()

    async def _dead_letter(self, msg: Msg, error: str, event: CloudEvent | None = None) -> None:
        js = self._nats.jetstream()
        headers = {
            "Jalon-Original-Subject": msg.subject,
            "Jalon-Error": error[:1000],
            "Jalon-Consumer": self.durable,
            "Jalon-Deliveries": str(msg.metadata.num_delivered),
        }
        if event is not None:
            headers["Nats-Msg-Id"] = f"dlq-{self.durable}-{event.id}"
        await js.publish(self.dlq_subject, msg.data, headers=headers)
        await msg.ack()
        self.dead_lettered += 1
        log.error("event dead-lettered", consumer=self.durable, subject=msg.subject, error=error)

    async def run(self) -> None:
        sub: JetStreamContext.PullSubscription | None = None
        while True:
            try:
                if sub is None:
                    await self._nats.wait_connected()
                    sub = await self._subscribe()
                try:
                    msgs = await sub.fetch(self._batch, timeout=1.0)
                except (NatsTimeoutError, TimeoutError):
                    continue
                for msg in msgs:
                    await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS or database away: resubscribe after a pause
                log.warning("consumer loop error", consumer=self.durable, error=str(exc))
                sub = None
                await asyncio.sleep(1.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
