"""Two processes on one database: the second catalog follows the first's writes incrementally
(the changed records only), and a BOM change moving many codes writes its events in bulk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.masterdata.app import create_app
from services.masterdata.db import repositories as repo
from services.masterdata.handlers import Catalog
from tests.harness import Infra
from tests.integration.masterdata.conftest import MD, Client, _client, load_plant, settings_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def two(infra: Infra) -> AsyncIterator[tuple[Client, Client]]:
    name, _url = infra.new_database("masterdata")
    async for first in _client(create_app(settings_for(infra, name))):
        async for second in _client(create_app(settings_for(infra, name))):
            yield first, second


def state(c: Catalog) -> tuple[object, ...]:
    return c.seq, c.records, c.versions, c.llc_versions, c.graph.low_level_codes()


async def fresh(client: Client) -> Catalog:
    catalog = Catalog()
    async with client.app.state.runtime.engine.connect() as plain:
        conn = await plain.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            await catalog.load(await repo.raw_of(conn))
    return catalog


async def test_a_second_process_reads_only_what_the_first_changed(two: tuple[Client, Client]) -> None:
    first, second = two
    await load_plant(first)
    r = await second.get(f"{MD}/items/BIKE/explosion", params={"at": "2026-03-02"})
    assert r.status_code == 200
    catalog: Catalog = second.app.state.catalog
    loads = catalog.full_loads

    await first.put_ok("/items/SEAT", {"name": "Seat", "uom": "EA", "kind": "buy"})
    await first.put_ok("/items/SADDLE", {"name": "Saddle", "uom": "EA", "kind": "make"})
    await first.put_ok("/boms/SADDLE", {"lines": [{"component": "SEAT", "qty_per": 1}]})
    await first.put_ok(
        "/boms/BIKE",
        {"lines": [{"component": "FRAME", "qty_per": 1}, {"component": "SADDLE", "qty_per": 1}]},
    )
    assert (await first.delete(f"{MD}/routings/BIKE")).status_code == 204

    r = await second.get(f"{MD}/items/BIKE/explosion", params={"at": "2026-03-02"})
    assert [ln["sku"] for ln in r.json()["lines"]] == ["BIKE", "FRAME", "TUBE", "SADDLE", "SEAT"]
    assert catalog.full_loads == loads, "synced from the history, not reloaded"
    assert state(catalog) == state(await fresh(second))
    assert "BIKE" not in catalog.records["routing"]

    # both processes change BOMs in turn: each follows the other
    await second.put_ok("/boms/SADDLE", {"lines": [{"component": "TUBE", "qty_per": 2}]})
    await first.put_ok("/boms/FRAME", {"lines": [{"component": "SEAT", "qty_per": 1}]})
    r = await second.get(f"{MD}/items/BIKE/where-used")
    assert r.status_code == 200
    assert state(catalog) == state(await fresh(second))
    assert catalog.full_loads == loads


async def test_a_bom_change_moving_hundreds_of_codes_sends_one_event_each_in_order(client: Client) -> None:
    await client.put_ok("/units/EA", {"name": "each"})
    n = 300
    items = [{"sku": f"C{i:03d}", "name": "c", "uom": "EA", "kind": "make"} for i in range(n)]
    items.append({"sku": "TOP", "name": "top", "uom": "EA", "kind": "make"})
    boms = [
        {"parent": f"C{i:03d}", "lines": [{"component": f"C{i + 1:03d}", "qty_per": 1}]} for i in range(n - 1)
    ]
    r = await client.post(f"{MD}/imports", json={"items": items, "boms": boms})
    assert r.status_code == 201, r.text
    before = await client.outbox()

    await client.put_ok("/boms/TOP", {"lines": [{"component": "C000", "qty_per": 1}]})

    assert await client.outbox() - before == 1 + n, "the BOM and every moved code"
    async with client.app.state.runtime.engine.connect() as conn:
        raw = await repo.raw_of(conn)
        rows = await raw.fetch(
            "SELECT subject, (payload::jsonb -> 'data' ->> 'seq')::bigint AS seq FROM outbox "
            "WHERE seq > $1 ORDER BY seq",
            0,
        )
    tail = rows[-(1 + n) :]
    seqs = [r["seq"] for r in tail]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert tail[0]["subject"] == "jalon.masterdata.bom.changed"
    assert {r["subject"] for r in tail[1:]} == {"jalon.masterdata.low_level_code.changed"}
    r = await client.get(f"{MD}/items/C{n - 1:03d}")
    assert r.json()["low_level_code"] == n
