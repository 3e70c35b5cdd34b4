"""The inventory app in-process (httpx.ASGITransport) on a fresh database of the session's real
PostgreSQL; master-data items are seeded straight into the replica table."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.inventory.app import create_app
from services.inventory.settings import InventorySettings
from tests.harness import Infra

_keys = itertools.count(1)


@dataclass
class Inventory:
    app: FastAPI
    client: httpx.AsyncClient

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.app.state.runtime.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def scalar(self, statement: str, **params: Any) -> Any:
        rows = await self.sql(statement, **params)
        return rows[0][0]

    async def item(self, sku: str, standard_cost: str | None = None, **extra: Any) -> None:
        record = {"sku": sku, "name": sku, "uom": "pc", "kind": "buy", **extra}
        if standard_cost is not None:
            record["standard_cost"] = standard_cost
        await self.sql(
            "INSERT INTO replica_records (source, kind, key, version, seq, record) "
            "VALUES ('masterdata', 'item', :k, 1, 0, CAST(:r AS jsonb)) "
            "ON CONFLICT (source, kind, key) DO UPDATE SET record = excluded.record",
            k=sku,
            r=json.dumps(record),
        )

    async def move(self, key: str | None = None, **body: Any) -> httpx.Response:
        headers = {"Idempotency-Key": key or f"k-{next(_keys)}-{uuid.uuid4().hex[:6]}"}
        return await self.client.post("/v1/inventory/movements", json=body, headers=headers)

    async def ok(self, **body: Any) -> dict[str, Any]:
        r = await self.move(**body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def balances(self, **params: Any) -> list[dict[str, Any]]:
        r = await self.client.get("/v1/inventory/balances", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def on_hand(self, sku: str, location: str = "MAIN", lot: str | None = None) -> Any:
        for b in await self.balances(sku=sku, location=location):
            if b["lot"] == lot:
                return b["on_hand"]
        return 0

    async def ledger_count(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM movements"))

    async def outbox(self, subject: str) -> list[dict[str, Any]]:
        rows = await self.sql("SELECT payload FROM outbox WHERE subject = :s ORDER BY seq", s=subject)
        return [json.loads(r[0]) for r in rows]


def settings_for(infra: Infra, database: str, **overrides: Any) -> InventorySettings:
    values: dict[str, Any] = {
        "database_url": infra.server_url,
        "database_name": database,
        "nats_url": infra.nats_url,
        "run_workers": False,
        "log_json": False,
        "log_level": "WARNING",
        "database_pool_size": 20,
        "database_max_overflow": 40,
    }
    values.update(overrides)
    return InventorySettings(**values)


@pytest.fixture
async def inv(infra: Infra) -> AsyncIterator[Inventory]:
    name, _url = infra.new_database("inventory")
    app = create_app(settings_for(infra, name))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inventory", timeout=60) as c:
            c.headers["X-Jalon-Client"] = "tests"
            yield Inventory(app, c)
