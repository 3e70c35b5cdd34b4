"""Idempotency-Key against real PostgreSQL, through a service app built by the shared factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import text

from shared.settings import ServiceSettings
from shared.web.app import UowDep, create_service_app
from shared.web.idempotency import RequiredIdempotencyDep
from tests.harness import Infra

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Payment(BaseModel):
    amount: int
    slow: float = 0.0


def payments_app(settings: ServiceSettings) -> FastAPI:
    router = APIRouter()

    @router.post("/v1/inventory/payments", status_code=201)
    async def create_payment(body: Payment, uow: UowDep, idem: RequiredIdempotencyDep) -> Response:
        async with uow:

            async def work() -> dict[str, int]:
                if body.slow:
                    await asyncio.sleep(body.slow)
                row = await uow.session.execute(
                    text("INSERT INTO payments (amount) VALUES (:a) RETURNING id"), {"a": body.amount}
                )
                return {"id": int(row.scalar_one()), "amount": body.amount}

            return await idem.execute(
                uow, work, status_code=201, headers=lambda r: {"Location": f"/payments/{r['id']}"}
            )

    return create_service_app(settings, title="t", description="t", routers=[router])


@pytest.fixture
async def client(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    name, _url = infra.new_database("inventory")
    settings = ServiceSettings(
        service_name="inventory",
        database_url=infra.server_url,
        database_name=name,
        nats_url=infra.nats_url,
        run_workers=False,
        log_json=False,
    )
    app = payments_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.runtime.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE payments (id serial PRIMARY KEY, amount int)"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
            c.headers["X-Jalon-Client"] = "client-a"
            yield c


async def count(client: httpx.AsyncClient) -> int:
    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.runtime.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM payments"))).scalar_one())


async def test_a_replay_with_the_same_key_returns_the_first_response_and_applies_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(
        "/v1/inventory/payments", json={"amount": 10}, headers={"Idempotency-Key": "p-1"}
    )
    again = await client.post(
        "/v1/inventory/payments", json={"amount": 10}, headers={"Idempotency-Key": "p-1"}
    )
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count(client) == 1


async def test_the_same_key_with_another_body_is_a_422_naming_the_header(client: httpx.AsyncClient) -> None:
    await client.post("/v1/inventory/payments", json={"amount": 10}, headers={"Idempotency-Key": "p-2"})
    other = await client.post(
        "/v1/inventory/payments", json={"amount": 11}, headers={"Idempotency-Key": "p-2"}
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await count(client) == 1


async def test_keys_are_scoped_by_client(client: httpx.AsyncClient) -> None:
    await client.post("/v1/inventory/payments", json={"amount": 5}, headers={"Idempotency-Key": "p-3"})
    other_client = await client.post(
        "/v1/inventory/payments",
        json={"amount": 5},
        headers={"Idempotency-Key": "p-3", "X-Jalon-Client": "client-b"},
    )
    assert other_client.status_code == 201
    assert "idempotent-replayed" not in other_client.headers
    assert await count(client) == 2


async def test_a_key_still_in_flight_is_a_409_and_the_work_happens_once(client: httpx.AsyncClient) -> None:
    slow = client.post(
        "/v1/inventory/payments", json={"amount": 7, "slow": 1.0}, headers={"Idempotency-Key": "p-4"}
    )

    async def second() -> httpx.Response:
        await asyncio.sleep(0.3)
        return await client.post(
            "/v1/inventory/payments", json={"amount": 7, "slow": 1.0}, headers={"Idempotency-Key": "p-4"}
        )

    first, concurrent = await asyncio.gather(slow, second())
    assert first.status_code == 201
    assert concurrent.status_code == 409
    assert concurrent.headers["retry-after"] == "1"
    assert await count(client) == 1


async def test_a_missing_key_is_a_422_and_a_bad_body_changes_nothing(client: httpx.AsyncClient) -> None:
    missing = await client.post("/v1/inventory/payments", json={"amount": 1})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {
            "field": "header.Idempotency-Key",
            "message": "this operation requires an Idempotency-Key header",
            "code": "missing",
        }
    ]
    bad = await client.post(
        "/v1/inventory/payments", json={"amount": "many"}, headers={"Idempotency-Key": "p-5"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "amount"
    assert await count(client) == 0
