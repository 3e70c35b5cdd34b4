"""The outbox relay: publishes committed outbox rows to JetStream, then marks them sent.

``Nats-Msg-Id`` is the event id, so a row published twice (a crash between publish and mark) is
dropped by the stream's duplicate window, and consumers' inboxes drop it again. While NATS is down
rows simply wait. ``FOR UPDATE SKIP LOCKED`` lets several replicas of a service relay side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select

from shared.db.engine import SessionMaker
from shared.db.platform import OutboxRow, utcnow
from shared.logging import get_logger
from shared.messaging.connection import NatsConnection

log = get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        nats: NatsConnection,
        *,
        poll_interval_s: float = 1.0,
        batch_size: int = 500,
        keep_published: timedelta = timedelta(days=7),
    ):
        self._sessionmaker = sessionmaker
        self._nats = nats
        self._poll = poll_interval_s
        self._batch = batch_size
        self._keep = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published_total = 0

    def wake(self) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows in order. Returns how many were published."""
        if not self._nats.is_connected:
            return 0
        js = self._nats.jetstream()
        published = 0
        async with self._sessionmaker() as session, session.begin():
            rows = (
                await session.exec(
                    select(OutboxRow)
                    .where(col(OutboxRow.published_at).is_(None))
                    .order_by(col(OutboxRow.seq))
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            now = utcnow()
            for row in rows:
                try:
                    await js.publish(row.subject, row.payload.encode(), headers={"Nats-Msg-Id": row.event_id})
                except Exception as exc:
                    row.attempts += 1
                    log.warning("outbox publish failed; will retry", event_id=row.event_id, error=str(exc))
                    break
                row.published_at = now
                published += 1
        self.published_total += published
        return published

    async def pending(self) -> int:
        async with self._sessionmaker() as session:
            result = await session.exec(
                select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            )
            return int(result.one())

    async def purge_published(self) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                delete(OutboxRow).where(col(OutboxRow.published_at) < utcnow() - self._keep)
            )

    async def run(self) -> None:
        delay = self._poll
        rounds = 0
        while True:
            try:
                n = await self.publish_pending()
                delay = self._poll
                rounds += 1
                if rounds % 3600 == 0:
                    await self.purge_published()
                if n >= self._batch:
                    continue  # more waiting: go on at once
            except Exception as exc:  # database or NATS trouble: back off, never die
                log.warning("outbox relay round failed", error=str(exc))
                delay = min(delay * 2, 10.0)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
