"""The masterdata app in-process on a fresh database of the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.masterdata.app import create_app
from services.masterdata.settings import MasterDataSettings
from tests.harness import Infra

MD = "/v1/masterdata"


def settings_for(infra: Infra, name: str, *, workers: bool = False) -> MasterDataSettings:
    return MasterDataSettings(
        database_url=infra.server_url,
        database_name=name,
        nats_url=infra.nats_url,
        run_workers=workers,
        outbox_poll_interval_s=0.1,
        log_json=False,
        log_level="WARNING",
    )


class Client(httpx.AsyncClient):
    app: FastAPI

    async def scalar(self, sql: str) -> Any:
        async with self.app.state.runtime.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar_one()

    async def changes(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM history"))

    async def outbox(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM outbox"))

    async def put_ok(self, path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        r = await self.put(f"{MD}{path}", json=body, **kw)
        assert r.status_code in (200, 201), r.text
        return r


async def _client(app: FastAPI) -> AsyncIterator[Client]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with Client(transport=transport, base_url="http://md", timeout=60) as c:
            c.app = app
            c.headers["X-Jalon-Client"] = "key-test"
            yield c


@pytest.fixture
async def client(infra: Infra) -> AsyncIterator[Client]:
    name, _url = infra.new_database("masterdata")
    async for c in _client(create_app(settings_for(infra, name))):
        yield c


@pytest.fixture
async def live_client(infra: Infra) -> AsyncIterator[Client]:
    """With the outbox relay running (events reach NATS)."""
    name, _url = infra.new_database("masterdata")
    async for c in _client(create_app(settings_for(infra, name, workers=True))):
        yield c


# -- a small plant whose figures are computed by hand in the tests ----------------------------------

UNITS = [{"code": "EA", "name": "each"}, {"code": "KG", "name": "kilogram"}, {"code": "G", "name": "gram"}]
CONVERSIONS = [{"from_uom": "KG", "to_uom": "G", "factor": 1000}]
FAMILIES = [{"code": "BIKES", "name": "Bicycles"}]
CALENDARS = [
    {
        "code": "plant",
        "weekdays": {
            d: [["06:00", "14:00"], ["14:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
    }
]
WORK_CENTERS = [
    {"code": "WELD", "name": "Welding", "machines": [{"code": "W1"}], "calendar": "plant", "hourly_cost": 60},
    {"code": "PAINT", "name": "Paint", "machines": [{"code": "P1"}], "calendar": "plant", "hourly_cost": 120},
]
ITEMS = [
    {"sku": "BIKE", "name": "Bike", "uom": "EA", "kind": "make", "family": "BIKES", "lead_time_days": 2},
    {
        "sku": "FRAME",
        "name": "Frame",
        "uom": "EA",
        "kind": "make",
        "lead_time_days": 3,
        "lot_sizing": {"rule": "fixed", "quantity": 10},
    },
    {"sku": "WHEEL", "name": "Wheel", "uom": "EA", "kind": "buy", "lead_time_days": 5, "standard_cost": 20},
    {"sku": "TUBE", "name": "Tube", "uom": "KG", "kind": "buy", "lead_time_days": 10, "standard_cost": "4"},
]
BOMS = [
    {"parent": "BIKE", "lines": [{"component": "FRAME", "qty_per": 1}, {"component": "WHEEL", "qty_per": 2}]},
    {"parent": "FRAME", "lines": [{"component": "TUBE", "qty_per": "1.5", "scrap_pct": 25}]},
]
ROUTINGS = [
    {
        "sku": "FRAME",
        "operations": [{"seq": 10, "work_center": "WELD", "setup_minutes": 30, "run_minutes_per_unit": 6}],
    },
    {
        "sku": "BIKE",
        "operations": [
            {
                "seq": 10,
                "work_center": "PAINT",
                "run_minutes_per_unit": 3,
                "alternates": [{"work_center": "WELD", "run_minutes_per_unit": 4}],
            }
        ],
    },
]
SUPPLIERS = [
    {
        "code": "ACME",
        "name": "Acme",
        "items": [{"sku": "WHEEL", "lead_time_days": 5, "min_order_qty": 10, "price": 19}],
    }
]


def plant() -> dict[str, Any]:
    return {
        "units": UNITS,
        "unit_conversions": CONVERSIONS,
        "families": FAMILIES,
        "calendars": CALENDARS,
        "work_centers": WORK_CENTERS,
        "items": ITEMS,
        "boms": BOMS,
        "routings": ROUTINGS,
        "suppliers": SUPPLIERS,
    }


async def load_plant(client: Client) -> httpx.Response:
    r = await client.post(f"{MD}/imports", json=plant())
    assert r.status_code == 201, r.text
    return r


async def base_units(client: Client) -> None:
    for u in UNITS:
        await client.put_ok(f"/units/{u['code']}", {"name": u["name"]})
