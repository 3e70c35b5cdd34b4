"""A local read replica of another service's records, fed by its events, resynced from its export.

The owner (master data today) numbers its changes with a global sequence ``seq`` committed in
order, and each record with its own ``version``. Every event carries
``data = {"seq", "version", "key", "record"}`` (``record`` null on delete), under subjects
``jalon.<source>.<kind>.changed|deleted``. The owner's ``GET /v1/<source>/export`` streams NDJSON:
a header ``{"kind": "header", "seq"}``, one line per record ``{"kind", "key", "version", "record"}``,
and ``{"kind": "end", "count"}``, all from one consistent snapshot.

The replica keeps ``replica_records(source, kind, key, version, seq, record)`` and
``replica_state(source, seq, needs_resync)``:

- an event with ``seq ≤ state.seq`` is already in the replica: ignored;
- ``seq = state.seq + 1``: applied (upsert if its version is newer; delete), ``state.seq`` moves on;
- ``seq > state.seq + 1`` (a gap: events lost or the replica new) or a ``snapshot.changed`` event:
  ``needs_resync`` is set and the resync task replaces the whole replica from the export, in one
  transaction, under a row lock on the state so events wait for it and then continue from its seq.

The service starts a resync at start-up when the replica is new or marked, and on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import SessionMaker, raw_connection
from shared.events import CloudEvent, stream_name
from shared.logging import get_logger
from shared.messaging.connection import NatsConnection
from shared.messaging.consumer import EventConsumer

log = get_logger(__name__)

COPY_BATCH = 5000


@dataclass(frozen=True)
class ReplicaStatus:
    source: str
    seq: int
    needs_resync: bool
    records: int


class Replica:
    def __init__(
        self,
        *,
        source: str,
        consumer_name: str,
        sessionmaker: SessionMaker,
        nats: NatsConnection,
        export_url: str,
        kinds: Iterable[str] | None = None,
        http_timeout_s: float = 300.0,
    ):
        self.source = source
        self.consumer_name = consumer_name
        self._sessionmaker = sessionmaker
        self._nats = nats
        self.export_url = export_url
        self.kinds = set(kinds) if kinds is not None else None
        self._timeout = http_timeout_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.resyncs = 0
        self.synced = asyncio.Event()

    # -- events ----------------------------------------------------------------------------------
    def consumer(self, *, max_deliver: int = 5) -> EventConsumer:
        return EventConsumer(
            nats=self._nats,
            sessionmaker=self._sessionmaker,
            durable=self.consumer_name,
            stream=stream_name(self.source),
            subjects=[f"jalon.{self.source}.>"],
            handler=self.apply_event,
            max_deliver=max_deliver,
        )

    async def _lock_state(self, session: AsyncSession) -> tuple[int, bool]:
        await session.execute(
            text("INSERT INTO replica_state (source) VALUES (:s) ON CONFLICT DO NOTHING"),
            {"s": self.source},
        )
        row = (
            await session.execute(
                text("SELECT seq, needs_resync FROM replica_state WHERE source = :s FOR UPDATE"),
                {"s": self.source},
            )
        ).one()
        return int(row[0]), bool(row[1])

    async def apply_event(self, session: AsyncSession, event: CloudEvent) -> None:
        """The consumer's handler: runs in the consumer's transaction (with its inbox row)."""
        parts = event.type.split(".")
        kind, action = parts[2], parts[3]
        seq = int(event.data.get("seq", 0))
        state_seq, needs_resync = await self._lock_state(session)
        if needs_resync or seq <= state_seq:
            return
        if seq > state_seq + 1 or (kind, action) == ("snapshot", "changed"):
            await self._mark(session, True)
            self._wake.set()
            log.info("replica gap; resync scheduled", source=self.source, have=state_seq, got=seq)
            return
        if self.kinds is None or kind in self.kinds:
            record = event.data.get("record")
            key = str(event.data["key"])
            if action == "deleted" or record is None:
                await session.execute(
                    text("DELETE FROM replica_records WHERE source = :s AND kind = :k AND key = :key"),
                    {"s": self.source, "k": kind, "key": key},
                )
            else:
                await session.execute(
                    text(
                        "INSERT INTO replica_records (source, kind, key, version, seq, record) "
                        "VALUES (:s, :k, :key, :v, :seq, CAST(:r AS jsonb)) "
                        "ON CONFLICT (source, kind, key) DO UPDATE SET version = excluded.version, "
                        "seq = excluded.seq, record = excluded.record "
                        "WHERE replica_records.version < excluded.version"
                    ),
                    {
                        "s": self.source,
                        "k": kind,
                        "key": key,
                        "v": int(event.data.get("version", 0)),
                        "seq": seq,
                        "r": json.dumps(record),
                    },
                )
        await session.execute(
            text("UPDATE replica_state SET seq = :seq WHERE source = :s"), {"seq": seq, "s": self.source}
        )

    async def _mark(self, session: AsyncSession, needs: bool) -> None:
        await session.execute(
            text("UPDATE replica_state SET needs_resync = :n WHERE source = :s"),
            {"n": needs, "s": self.source},
        )

    # -- resync ----------------------------------------------------------------------------------
    async def request_resync(self) -> None:
        async with self._sessionmaker() as session, session.begin():
            await self._lock_state(session)
            await self._mark(session, True)
        self._wake.set()

    async def resync(self) -> ReplicaStatus:
        """Replace the replica with the owner's export, in one transaction."""
        params = {"kinds": ",".join(sorted(self.kinds))} if self.kinds else None
        async with self._sessionmaker() as session, session.begin():
            await self._lock_state(session)  # events wait until the snapshot is in
            await session.execute(text("DELETE FROM replica_records WHERE source = :s"), {"s": self.source})
            raw = await raw_connection(session)
            seq = 0
            count = 0
            batch: list[tuple[str, str, str, int, int, str]] = []
            async with (
                httpx.AsyncClient(timeout=self._timeout) as client,
                client.stream("GET", self.export_url, params=params) as response,
            ):
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    item = json.loads(line)
                    kind = item.get("kind")
                    if kind == "header":
                        seq = int(item["seq"])
                    elif kind == "end":
                        if int(item.get("count", count)) != count:
                            raise RuntimeError(f"export of {self.source} ended short")
                        break
                    elif self.kinds is None or kind in self.kinds:
                        batch.append(
                            (
                                self.source,
                                kind,
                                str(item["key"]),
                                int(item["version"]),
                                seq,
                                json.dumps(item["record"]),
                            )
                        )
                        count += 1
                        if len(batch) >= COPY_BATCH:
                            await self._copy(raw, batch)
                            batch = []
                else:
                    raise RuntimeError(f"export of {self.source} has no end line")
            if batch:
                await self._copy(raw, batch)
            await session.execute(
                text(
                    "UPDATE replica_state SET seq = :seq, needs_resync = false, synced_at = now(), "
                    "records = :n WHERE source = :s"
                ),
                {"seq": seq, "n": count, "s": self.source},
            )
        self.resyncs += 1
        self.synced.set()
        log.info("replica resynced", source=self.source, seq=seq, records=count)
        return ReplicaStatus(self.source, seq, False, count)

    @staticmethod
    async def _copy(raw: Any, rows: list[tuple[str, str, str, int, int, str]]) -> None:
        await raw.executemany(
            "INSERT INTO replica_records (source, kind, key, version, seq, record) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            rows,
        )

    async def status(self) -> ReplicaStatus:
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT seq, needs_resync, "
                        "(SELECT count(*) FROM replica_records r WHERE r.source = :s) "
                        "FROM replica_state WHERE source = :s"
                    ),
                    {"s": self.source},
                )
            ).first()
        if row is None:
            return ReplicaStatus(self.source, 0, True, 0)
        return ReplicaStatus(self.source, int(row[0]), bool(row[1]), int(row[2]))

    async def records(self, session: AsyncSession, kind: str) -> list[dict[str, Any]]:
        """Every replicated record of ``kind`` (for building an in-memory snapshot)."""
        result = await session.execute(
            text("SELECT record FROM replica_records WHERE source = :s AND kind = :k ORDER BY key"),
            {"s": self.source, "k": kind},
        )
        return [r[0] for r in result.all()]

    async def run(self) -> None:
        """Background task: resync at start when needed, then whenever a gap marks the replica."""
        delay = 1.0
        while True:
            try:
                if (await self.status()).needs_resync:
                    await self.resync()
                else:
                    self.synced.set()
                delay = 1.0
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 30.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the owner or the database away: try again later
                log.warning("replica resync failed; retrying", source=self.source, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"replica-{self.source}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
