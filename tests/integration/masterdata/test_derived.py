"""Derived data on a small plant computed by hand; low-level codes; history; import idempotency.

BIKE (make, 2 d) = FRAME × 1 + WHEEL × 2;  FRAME (make, 3 d, lot 10) = TUBE 1.5 kg at 25 % scrap
(2 kg effective). WHEEL buy 5 d at 20; TUBE buy 10 d at 4 /kg. FRAME welds 30 min setup + 6 min/unit
at 60 /h; BIKE paints 3 min/unit at 120 /h.
"""

from __future__ import annotations

import pytest

from tests.integration.masterdata.conftest import MD, Client, load_plant, plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_explosion_cumulates_quantities_along_each_path(client: Client) -> None:
    await load_plant(client)
    r = await client.get(f"{MD}/items/BIKE/explosion", params={"at": "2026-01-05", "qty": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(ln["level"], ln["sku"], ln["quantity"], ln["low_level_code"]) for ln in body["lines"]] == [
        (0, "BIKE", 3, 0),
        (1, "FRAME", 3, 1),
        (2, "TUBE", 6, 2),
        (1, "WHEEL", 6, 1),
    ]
    assert body["lines"][2]["path"] == ["BIKE", "FRAME", "TUBE"]
    assert {t["sku"]: t["quantity"] for t in body["totals"]} == {"FRAME": 3, "TUBE": 6, "WHEEL": 6}
    assert (await client.get(f"{MD}/items/NOPE/explosion")).status_code == 404


async def test_explosion_respects_effectivity_dates(client: Client) -> None:
    await load_plant(client)
    await client.put_ok(
        "/boms/BIKE",
        {
            "lines": [
                {"component": "FRAME", "qty_per": 1},
                {"component": "WHEEL", "qty_per": 2, "valid_to": "2027-01-01"},
                {"component": "WHEEL", "qty_per": 3, "valid_from": "2027-01-01"},
            ]
        },
    )
    before = (await client.get(f"{MD}/items/BIKE/explosion", params={"at": "2026-12-31"})).json()
    after = (await client.get(f"{MD}/items/BIKE/explosion", params={"at": "2027-01-01"})).json()
    assert {t["sku"]: t["quantity"] for t in before["totals"]}["WHEEL"] == 2
    assert {t["sku"]: t["quantity"] for t in after["totals"]}["WHEEL"] == 3


async def test_where_used_single_and_all_levels(client: Client) -> None:
    await load_plant(client)
    single = (await client.get(f"{MD}/items/TUBE/where-used")).json()["items"]
    assert [(w["sku"], w["quantity"], w["end_item"]) for w in single] == [("FRAME", 2, False)]
    every = (await client.get(f"{MD}/items/TUBE/where-used", params={"levels": "all"})).json()["items"]
    assert [(w["level"], w["sku"], w["quantity"], w["end_item"]) for w in every] == [
        (1, "FRAME", 2, False),
        (2, "BIKE", 2, True),
    ]


async def test_cumulative_lead_time_and_cost_rollup(client: Client) -> None:
    await load_plant(client)
    clt = (await client.get(f"{MD}/items/BIKE/cumulative-lead-time")).json()
    assert clt["days"] == 15
    assert clt["critical_path"] == ["BIKE", "FRAME", "TUBE"]
    cost = (await client.get(f"{MD}/items/BIKE/cost-rollup", params={"at": "2026-01-05"})).json()
    # FRAME: 2 kg × 4 + 6 min × 1/min + 30 min / 10 × 1/min = 8 + 6 + 3 = 17
    # BIKE: 17 + 2 × 20 + 3 min × 2/min = 63
    assert cost["total"] == 63
    assert cost["material"] == 57
    assert cost["run"] == 6
    assert cost["purchased"] == 48
    frame = next(c for c in cost["components"] if c["sku"] == "FRAME")
    assert (frame["total"], frame["setup"], frame["lot_size"]) == (17, 3, 10)


async def test_low_level_codes_follow_every_bom_change(client: Client) -> None:
    await load_plant(client)
    codes = (await client.get(f"{MD}/low-level-codes")).json()["items"]
    assert {c["sku"]: c["low_level_code"] for c in codes} == {"BIKE": 0, "FRAME": 1, "WHEEL": 1, "TUBE": 2}
    await client.put_ok("/items/KIT", {"name": "Kit", "uom": "EA", "kind": "make"})
    await client.put_ok("/boms/KIT", {"lines": [{"component": "BIKE", "qty_per": 1}]})
    codes = (await client.get(f"{MD}/low-level-codes", params={"min_code": 1})).json()["items"]
    assert [(c["sku"], c["low_level_code"]) for c in codes] == [
        ("BIKE", 1),
        ("FRAME", 2),
        ("WHEEL", 2),
        ("TUBE", 3),
    ]
    assert (await client.get(f"{MD}/items/TUBE")).json()["low_level_code"] == 3
    history = (
        await client.get(f"{MD}/history", params={"record_kind": "low_level_code", "key": "TUBE"})
    ).json()
    assert [h["changes"][0]["new"] for h in history["items"]] == [2, 3], "0 → 2 by the import, then 2 → 3"
    assert (await client.delete(f"{MD}/boms/KIT")).status_code == 204
    codes = (await client.get(f"{MD}/low-level-codes")).json()["items"]
    assert {c["sku"]: c["low_level_code"] for c in codes}["TUBE"] == 2


async def test_history_says_what_changed_when_and_by_which_key(client: Client) -> None:
    await load_plant(client)
    await client.put_ok(
        "/items/WHEEL",
        {"name": "Wheel 26in", "uom": "EA", "kind": "buy", "lead_time_days": 5, "standard_cost": 21},
        headers={"X-Jalon-Client": "key-planner"},
    )
    await client.put_ok(
        "/boms/BIKE",
        {
            "lines": [
                {"component": "FRAME", "qty_per": 1},
                {"component": "WHEEL", "qty_per": 2},
                {"component": "TUBE", "qty_per": "0.1"},
            ]
        },
    )
    wheel = (await client.get(f"{MD}/history", params={"record_kind": "item", "key": "WHEEL"})).json()[
        "items"
    ]
    assert [h["op"] for h in wheel] == ["create", "update"]
    assert wheel[1]["changed_by"] == "key-planner"
    assert wheel[1]["version"] == 2
    assert wheel[1]["changes"] == [
        {"field": "name", "old": "Wheel", "new": "Wheel 26in"},
        {"field": "standard_cost", "old": 20, "new": 21},
    ]
    bike = (await client.get(f"{MD}/history", params={"record_kind": "bom", "key": "BIKE"})).json()["items"]
    assert bike[-1]["changes"][0]["field"] == "lines/TUBE"
    assert bike[-1]["changes"][0]["old"] is None
    paged = (await client.get(f"{MD}/history", params={"page_size": 2})).json()
    assert len(paged["items"]) == 2
    nxt = (
        await client.get(f"{MD}/history", params={"page_size": 2, "page_token": paged["next_page_token"]})
    ).json()
    assert nxt["items"][0]["seq"] == paged["items"][1]["seq"] + 1


async def test_an_import_replays_with_its_key_and_refuses_another_body(client: Client) -> None:
    first = await client.post(f"{MD}/imports", json=plant(), headers={"Idempotency-Key": "imp-1"})
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["counts"]["items"] == {"created": 4, "updated": 0, "deleted": 0, "unchanged": 0}
    assert result["events"] == "per_record"
    assert first.headers["location"] == f"/v1/masterdata/imports/{result['id']}"
    changes = await client.changes()
    again = await client.post(f"{MD}/imports", json=plant(), headers={"Idempotency-Key": "imp-1"})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == result
    assert await client.changes() == changes
    other = await client.post(
        f"{MD}/imports", json={"units": [{"code": "L"}]}, headers={"Idempotency-Key": "imp-1"}
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    stored = await client.get(f"{MD}/imports/{result['id']}")
    assert stored.json() == result
    unchanged = await client.post(f"{MD}/imports", json=plant())
    assert unchanged.json()["counts"]["items"]["unchanged"] == 4
    assert unchanged.json()["events"] == "none"
