"""The mrp service in process (httpx.ASGITransport) on a fresh database of the session's
PostgreSQL; master data and stock are seeded straight into the replica tables."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.mrp.app import create_app
from services.mrp.settings import MrpSettings
from shared.runtime.procs import free_port
from tests.harness import Infra


@dataclass
class Mrp:
    app: FastAPI
    client: httpx.AsyncClient
    settings: MrpSettings

    async def sql(self, sql: str, **params: Any) -> list[Any]:
        async with self.app.state.runtime.engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    async def scalar(self, sql: str, **params: Any) -> Any:
        rows = await self.sql(sql, **params)
        return rows[0][0]

    async def seed(self, kind: str, key: str, record: dict[str, Any], seq: int = 1) -> None:
        await self.sql(
            "INSERT INTO replica_records (source, kind, key, version, seq, record) "
            "VALUES ('masterdata', :k, :key, 1, :seq, CAST(:r AS jsonb)) "
            "ON CONFLICT (source, kind, key) DO UPDATE SET record = excluded.record, seq = excluded.seq, "
            "version = replica_records.version + 1",
            k=kind,
            key=key,
            seq=seq,
            r=json.dumps(record),
        )
        await self.sql(
            "INSERT INTO replica_state (source, seq, needs_resync) VALUES ('masterdata', :s, false) "
            "ON CONFLICT (source) DO UPDATE SET seq = greatest(replica_state.seq, excluded.seq)",
            s=seq,
        )

    async def item(self, sku: str, kind: str = "make", seq: int = 1, **fields: Any) -> None:
        record = {"sku": sku, "name": sku, "uom": "EA", "kind": kind, "lead_time_days": 0, "safety_stock": 0}
        record.update(fields)
        await self.seed("item", sku, record, seq)

    async def bom(self, parent: str, lines: list[tuple[str, float]], seq: int = 1) -> None:
        await self.seed(
            "bom",
            parent,
            {
                "parent": parent,
                "lines": [
                    {"component": c, "qty_per": q, "scrap_pct": 0, "valid_from": None, "valid_to": None}
                    for c, q in lines
                ],
            },
            seq,
        )

    async def stock(
        self,
        sku: str,
        on_hand: Decimal | int,
        reserved: Decimal | int = 0,
        location: str = "MAIN",
        nettable: bool = True,
    ) -> None:
        await self.sql(
            "INSERT INTO stock_positions (sku, location, lot, on_hand, reserved, nettable, seq) "
            "VALUES (:s, :l, '', :oh, :r, :n, 1)",
            s=sku,
            l=location,
            oh=Decimal(on_hand),
            r=Decimal(reserved),
            n=nettable,
        )

    async def events(self, subject: str) -> list[dict[str, Any]]:
        rows = await self.sql("SELECT payload FROM outbox WHERE subject = :s ORDER BY seq", s=subject)
        return [json.loads(r[0]) for r in rows]

    async def wait_run(self, location: str, within_s: float = 30.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            r = await self.client.get(location)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if body["status"] in ("succeeded", "failed"):
                return body
            assert asyncio.get_running_loop().time() < deadline, f"run still {body['status']}"
            await asyncio.sleep(0.05)

    async def run(self, **body: Any) -> dict[str, Any]:
        r = await self.client.post("/v1/mrp/runs", json=body)
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued"
        return await self.wait_run(r.headers["location"])


@pytest.fixture
async def mrp(infra: Infra) -> AsyncIterator[Mrp]:
    name, _url = infra.new_database("mrp")
    settings = MrpSettings(
        database_url=infra.server_url,
        database_name=name,
        nats_url=infra.nats_url,
        # Nothing listens there: inventory is "away" unless a test says otherwise.
        inventory_url=f"http://127.0.0.1:{free_port()}",
        run_workers=False,
        log_json=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mrp", timeout=30) as client:
            client.headers["X-Jalon-Client"] = "tests"
            yield Mrp(app, client, settings)
            await app.state.mrp.runner.wait_idle()
