"""Events reach NATS with seq / version / record; the export is one consistent snapshot; CSV."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.masterdata.events import SNAPSHOT_THRESHOLD
from tests.harness import Infra
from tests.integration.masterdata.conftest import MD, Client, load_plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def collect(
    infra: Infra, keys: set[str], count: int, client: Client, action: Any
) -> list[dict[str, Any]]:
    """Subscribe (ephemeral, new messages only), run ``action``, gather ``count`` events whose
    subject is one of ``keys``."""
    nc = await nats.connect(infra.nats_url)
    try:
        js = nc.jetstream()
        got: list[dict[str, Any]] = []
        done = asyncio.Event()

        async def on_msg(msg: Any) -> None:
            event = json.loads(msg.data)
            if event.get("subject") in keys:
                got.append(event)
                if len(got) >= count:
                    done.set()
            await msg.ack()

        sub = await js.subscribe(
            "jalon.masterdata.>", cb=on_msg, config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        await action()
        await asyncio.wait_for(done.wait(), 15)
        await sub.unsubscribe()
        return got
    finally:
        await nc.close()


async def test_every_change_is_one_event_with_seq_version_and_record(
    infra: Infra, live_client: Client
) -> None:
    client = live_client

    async def act() -> None:
        await client.put_ok("/units/EVU", {"name": "unit"})
        await client.put_ok("/items/EV-A", {"name": "A", "uom": "EVU", "kind": "make"})
        await client.put_ok("/items/EV-B", {"name": "B", "uom": "EVU", "kind": "buy"})
        await client.put_ok("/boms/EV-A", {"lines": [{"component": "EV-B", "qty_per": 2}]})
        await client.put_ok("/items/EV-B", {"name": "B2", "uom": "EVU", "kind": "buy"})
        assert (await client.delete(f"{MD}/boms/EV-A")).status_code == 204

    events = await collect(infra, {"EVU", "EV-A", "EV-B"}, 8, client, act)
    summary = [
        (e["type"].removeprefix("jalon.masterdata."), e["subject"], e["data"]["version"]) for e in events
    ]
    assert summary == [
        ("unit.changed", "EVU", 1),
        ("item.changed", "EV-A", 1),
        ("item.changed", "EV-B", 1),
        ("bom.changed", "EV-A", 1),
        ("low_level_code.changed", "EV-B", 1),
        ("item.changed", "EV-B", 2),
        ("bom.deleted", "EV-A", 2),
        ("low_level_code.changed", "EV-B", 2),
    ]
    seqs = [e["data"]["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + 8)), "change numbers are consecutive, in commit order"
    assert events[3]["data"]["record"] == {
        "parent": "EV-A",
        "lines": [
            {
                "component": "EV-B",
                "qty_per": 2,
                "scrap_pct": 0,
                "valid_from": None,
                "valid_to": None,
                "uom": None,
            }
        ],
    }
    assert events[4]["data"]["record"] == {"sku": "EV-B", "low_level_code": 1}
    assert events[5]["data"]["record"]["name"] == "B2"
    assert events[6]["data"]["record"] is None
    assert events[7]["data"]["record"] == {"sku": "EV-B", "low_level_code": 0}


async def test_a_big_import_sends_one_snapshot_event(infra: Infra, live_client: Client) -> None:
    client = live_client
    n = SNAPSHOT_THRESHOLD
    batch = {
        "units": [{"code": "SNAPU"}],
        "items": [{"sku": f"SN-{i:05d}", "name": "x", "uom": "SNAPU", "kind": "buy"} for i in range(n)],
    }
    result: dict[str, Any] = {}

    async def act() -> None:
        r = await client.post(f"{MD}/imports", json=batch)
        assert r.status_code == 201, r.text
        result.update(r.json())

    nc = await nats.connect(infra.nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(
            "jalon.masterdata.snapshot.changed", config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        await act()
        msg = await sub.next_msg(timeout=15)
        event = json.loads(msg.data)
    finally:
        await nc.close()
    assert result["events"] == "snapshot"
    assert event["data"]["seq"] == result["seq_to"] == result["seq_from"] + n
    assert await client.scalar("SELECT count(*) FROM outbox WHERE subject LIKE '%item.changed'") == 0


def parse_export(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


async def test_the_export_is_a_consistent_snapshot_in_the_event_record_shape(client: Client) -> None:
    await load_plant(client)
    r = await client.get(f"{MD}/export")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = parse_export(r.text)
    header, end, records = lines[0], lines[-1], lines[1:-1]
    assert header["kind"] == "header"
    assert header["seq"] == await client.scalar("SELECT max(seq) FROM history")
    assert end == {"kind": "end", "count": len(records)}
    kinds = [x["kind"] for x in records]
    assert kinds.index("unit") < kinds.index("item") < kinds.index("bom")
    bike = next(x for x in records if x["kind"] == "item" and x["key"] == "BIKE")
    assert bike["version"] == 1
    got = (await client.get(f"{MD}/items/BIKE")).json()
    assert bike["record"] == {k: v for k, v in got.items() if k not in ("version", "low_level_code")}
    llc = {x["key"]: x["record"]["low_level_code"] for x in records if x["kind"] == "low_level_code"}
    assert llc == {"FRAME": 1, "WHEEL": 1, "TUBE": 2}
    only = parse_export((await client.get(f"{MD}/export", params={"kinds": "bom,routing"})).text)
    assert {x["kind"] for x in only[1:-1]} == {"bom", "routing"}
    assert (await client.get(f"{MD}/export", params={"kinds": "cars"})).status_code == 422


async def test_an_export_does_not_see_writes_committed_while_it_streams(client: Client) -> None:
    await load_plant(client)
    for i in range(30):
        await client.put_ok(f"/items/EXP-{i:03d}", {"name": "x", "uom": "EA", "kind": "buy"})
    from services.masterdata.api import export as export_module

    old_batch = export_module.BATCH
    export_module.BATCH = 5
    try:
        async with client.stream("GET", f"{MD}/export", params={"kinds": "item"}) as response:
            lines = response.aiter_lines()
            header = json.loads(await lines.__anext__())
            first = json.loads(await lines.__anext__())
            await client.put_ok("/items/AAA-LATE", {"name": "late", "uom": "EA", "kind": "buy"})
            await client.put_ok("/items/EXP-029", {"name": "changed", "uom": "EA", "kind": "buy"})
            rest = [json.loads(x) async for x in lines if x]
    finally:
        export_module.BATCH = old_batch
    records = [first, *rest[:-1]]
    keys = [x["key"] for x in records]
    assert "AAA-LATE" not in keys
    assert next(x for x in records if x["key"] == "EXP-029")["record"]["name"] == "x"
    assert rest[-1] == {"kind": "end", "count": len(records)}
    assert header["seq"] < await client.scalar("SELECT max(seq) FROM history")


ITEMS_CSV = (
    "sku;name;uom;kind;family;lead_time_days;safety_stock;lot_rule;lot_qty;lot_periods;min_qty;max_qty;multiple;standard_cost;phantom\n"
    "SEAT;Seat;EA;make;BIKES;2;0;fixed;12,5;;;;;;\n"
    "FOAM;Foam;KG;buy;;7;1,25;;;;;;;3,5;0\n"
)
BOMS_CSV = 'parent,component,qty_per,scrap_pct,valid_from,valid_to\nSEAT,FOAM,"0,4",,2026-01-01,\n'
ROUTINGS_CSV = (
    "sku;seq;work_center;setup_minutes;run_minutes_per_unit;alternate_work_center;alternate_run_minutes_per_unit\n"
    "SEAT;10;WELD;15;2,5;;\n"
    "SEAT;20;PAINT;0;1;WELD;1,5\n"
)


def files(**contents: str) -> dict[str, tuple[str, bytes, str]]:
    return {name: (f"{name}.csv", text.encode(), "text/csv") for name, text in contents.items()}


async def test_csv_files_import_with_semicolons_and_decimal_commas(client: Client) -> None:
    await load_plant(client)
    r = await client.post(
        f"{MD}/imports",
        files=files(items=ITEMS_CSV, boms=BOMS_CSV, routings=ROUTINGS_CSV),
        headers={"Idempotency-Key": "csv-1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "csv"
    seat = (await client.get(f"{MD}/items/SEAT")).json()
    assert seat["lot_sizing"] == {
        "rule": "fixed",
        "quantity": 12.5,
        "periods": None,
        "min_qty": None,
        "max_qty": None,
        "multiple": None,
    }
    assert (await client.get(f"{MD}/items/FOAM")).json()["standard_cost"] == 3.5
    assert (await client.get(f"{MD}/boms/SEAT")).json()["lines"][0]["qty_per"] == 0.4
    routing = (await client.get(f"{MD}/routings/SEAT")).json()
    assert routing["operations"][1]["alternates"] == [{"work_center": "WELD", "run_minutes_per_unit": 1.5}]
    # the same files again, with another multipart boundary: the stored answer
    again = await client.post(
        f"{MD}/imports",
        files=files(items=ITEMS_CSV, boms=BOMS_CSV, routings=ROUTINGS_CSV),
        headers={"Idempotency-Key": "csv-1"},
    )
    assert again.headers.get("idempotent-replayed") == "true"


async def test_a_csv_with_a_bad_line_names_file_line_and_column_and_imports_nothing(client: Client) -> None:
    await load_plant(client)
    before = await client.changes()
    bad_items = ITEMS_CSV + "GEL;Gel;KG;buy;;soon;;;;;;;;;\n"
    r = await client.post(f"{MD}/imports", files=files(items=bad_items, boms=BOMS_CSV))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "items.csv:4:lead_time_days",
            "message": "'soon' is not a number",
            "code": "not_a_number",
            "record": "items.csv",
        }
    ]
    semantic = await client.post(
        f"{MD}/imports",
        files=files(
            items=ITEMS_CSV,
            boms=BOMS_CSV + "SEAT,GHOST,1,,,\n",
            routings=ROUTINGS_CSV.replace("SEAT;20;PAINT", "SEAT;20;OVEN"),
        ),
    )
    assert semantic.status_code == 422
    assert {(e["field"], e["code"]) for e in semantic.json()["errors"]} == {
        ("boms.csv:3:component", "unknown_reference"),
        ("routings.csv:3:work_center", "unknown_reference"),
    }
    assert await client.changes() == before
    assert (await client.get(f"{MD}/items/SEAT")).status_code == 404


async def test_the_export_counts_every_record_of_the_plant(client: Client) -> None:
    await load_plant(client)
    count = 0
    async with client.stream("GET", f"{MD}/export") as response:
        async for line in response.aiter_lines():
            if line:
                count += 1
    # 3 units, 1 conversion, 1 family, 1 calendar, 2 work centers, 4 items, 2 BOMs, 2 routings,
    # 1 supplier, 3 moved low-level codes; plus the header and the end line
    assert count == 3 + 1 + 1 + 1 + 2 + 4 + 2 + 2 + 1 + 3 + 2
