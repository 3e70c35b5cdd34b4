"""The capacity app in-process (httpx.ASGITransport) on a fresh database of the session's real
PostgreSQL; master data seeded straight into the replica table; a stand-in mrp service served by
a real uvicorn on a free port when a test needs the order book."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from services.capacity.app import create_app
from services.capacity.settings import CapacitySettings
from shared.runtime.procs import free_port
from tests.harness import Infra

TWO_SHIFTS = [["06:00", "14:00"], ["14:00", "22:00"]]


async def eventually(check: Callable[[], Any], within_s: float = 30.0, every_s: float = 0.05) -> Any:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(every_s)


@dataclass
class Capacity:
    app: FastAPI
    client: httpx.AsyncClient

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.app.state.runtime.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def record(self, kind: str, key: str, record: dict[str, Any]) -> None:
        await self.sql(
            "INSERT INTO replica_records (source, kind, key, version, seq, record) "
            "VALUES ('masterdata', :kind, :k, 1, 1, CAST(:r AS jsonb)) "
            "ON CONFLICT (source, kind, key) DO UPDATE SET record = excluded.record",
            kind=kind,
            k=key,
            r=json.dumps(record),
        )

    async def analyse(self, body: dict[str, Any], *, expect: str = "succeeded") -> dict[str, Any]:
        r = await self.client.post("/v1/capacity/analyses", json=body)
        assert r.status_code == 202, r.text
        return await self.wait(r.json()["id"], expect=expect)

    async def wait(self, analysis_id: str, *, expect: str = "succeeded") -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            r = await self.client.get(f"/v1/capacity/analyses/{analysis_id}")
            assert r.status_code == 200, r.text
            body = dict(r.json())
            return body if body["status"] in ("succeeded", "failed") else None

        result = dict(await eventually(done))
        assert result["status"] == expect, result
        return result

    async def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token = None
        while True:
            query = dict(params)
            if token:
                query["page_token"] = token
            r = await self.client.get(path, params=query)
            assert r.status_code == 200, r.text
            out += r.json()["items"]
            token = r.json()["next_page_token"]
            if not token:
                return out


@pytest.fixture
async def capacity(infra: Infra) -> AsyncIterator[Capacity]:
    database, _url = infra.new_database("capacity")
    settings = CapacitySettings(
        database_url=infra.server_url,
        database_name=database,
        nats_url=infra.nats_url,
        run_workers=False,
        log_json=False,
        mrp_url=f"http://127.0.0.1:{free_port()}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.runtime.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO replica_state (source, seq, needs_resync) VALUES ('masterdata', 1, false)")
            )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc", timeout=30) as client:
            client.headers["X-Jalon-Client"] = "client-a"
            yield Capacity(app, client)


@contextlib.asynccontextmanager
async def serve(app: FastAPI, port: int) -> AsyncIterator[str]:
    """``app`` served by a real uvicorn on ``port`` in this event loop for the block."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, within_s=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
