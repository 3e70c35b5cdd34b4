"""The test harness: real PostgreSQL and nats-server, started through the launcher's own code on
free ports, with helpers to kill and restart them; and the whole stack for end-to-end tests."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import nats

from shared.db.migrations import upgrade
from shared.messaging.streams import ensure_streams
from shared.runtime.nats import EmbeddedNats
from shared.runtime.postgres import EmbeddedPostgres
from shared.runtime.procs import free_port
from shared.settings import database_url_for


@dataclass
class Infra:
    home: Path
    postgres: EmbeddedPostgres
    nats: EmbeddedNats

    @classmethod
    def start(cls, home: Path) -> Infra:
        pg = EmbeddedPostgres(home, free_port(), durable=False)
        ns = EmbeddedNats(home, free_port(), free_port(), durable=True)
        pg.start()
        ns.start()
        infra = cls(home, pg, ns)
        asyncio.run(infra._ensure_streams())
        return infra

    async def _ensure_streams(self) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            await ensure_streams(nc.jetstream())
        finally:
            await nc.close()

    def stop(self) -> None:
        self.nats.stop()
        self.postgres.stop()

    @property
    def server_url(self) -> str:
        return self.postgres.url("postgres")

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def database_url(self, database: str) -> str:
        return database_url_for(self.server_url, database)

    def new_database(self, service: str) -> tuple[str, str]:
        """A fresh database with ``service``'s schema: (database name, asyncpg URL)."""
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        upgrade(service, self.server_url, name)
        return name, self.database_url(name)

    # -- faults ----------------------------------------------------------------------------------
    def kill_nats(self) -> None:
        self.nats.kill()

    def start_nats(self) -> None:
        self.nats.start()

    def restart_postgres(self) -> None:
        self.postgres.stop()
        self.postgres.start()

    def kill_postgres(self) -> None:
        self.postgres.kill()

    def start_postgres(self) -> None:
        self.postgres.start()
