"""The unit of work: one transaction per use case, events written to the outbox inside it.

Nothing is committed unless ``commit`` is called; leaving the block without it rolls back, and the
events recorded in it vanish with the state (so a rolled-back transaction publishes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.engine import SessionMaker
from shared.db.platform import OutboxRow
from shared.events import CloudEvent


class UnitOfWork:
    def __init__(self, sessionmaker: SessionMaker, *, on_commit: Callable[[], None] | None = None):
        self._sessionmaker = sessionmaker
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._events = 0
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use 'async with uow:'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessionmaker()
        self._events = 0
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self.committed:
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    def emit(self, event: CloudEvent) -> None:
        """Record ``event`` to be published once (and only if) this transaction commits."""
        self.session.add(
            OutboxRow(event_id=event.id, subject=event.nats_subject, payload=event.model_dump_json())
        )
        self._events += 1

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True
        if self._events and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
