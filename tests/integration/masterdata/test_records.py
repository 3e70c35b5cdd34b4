"""Records through HTTP: create / replace / read / delete, ETag and If-Match, filters, pages."""

from __future__ import annotations

import pytest

from tests.integration.masterdata.conftest import MD, Client, base_units, load_plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_put_creates_then_replaces_an_item_with_etags(client: Client) -> None:
    await base_units(client)
    body = {"name": "Bolt", "uom": "EA", "kind": "buy", "safety_stock": "12.5"}
    created = await client.put(f"{MD}/items/BOLT", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.json()["sku"] == "BOLT"
    assert created.json()["safety_stock"] == 12.5
    assert created.json()["lot_sizing"]["rule"] == "lot_for_lot"

    same = await client.put(f"{MD}/items/BOLT", json=body)
    assert same.status_code == 200
    assert same.headers["etag"] == '"1"', "an identical body changes nothing"

    replaced = await client.put(f"{MD}/items/BOLT", json={**body, "lead_time_days": 4})
    assert replaced.status_code == 200
    assert replaced.headers["etag"] == '"2"'
    got = await client.get(f"{MD}/items/BOLT")
    assert got.headers["etag"] == '"2"'
    assert got.json()["lead_time_days"] == 4
    assert got.json()["version"] == 2
    assert got.json()["low_level_code"] == 0


async def test_if_match_with_a_stale_version_is_a_412_and_changes_nothing(client: Client) -> None:
    await base_units(client)
    await client.put_ok("/items/NUT", {"name": "Nut", "uom": "EA", "kind": "buy"})
    await client.put_ok("/items/NUT", {"name": "Nut M6", "uom": "EA", "kind": "buy"})
    before = await client.changes()
    stale = await client.put(
        f"{MD}/items/NUT", json={"name": "Nut M8", "uom": "EA", "kind": "buy"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    fresh = await client.put(
        f"{MD}/items/NUT", json={"name": "Nut M8", "uom": "EA", "kind": "buy"}, headers={"If-Match": '"2"'}
    )
    assert fresh.status_code == 200
    assert await client.changes() == before + 1
    star = await client.put(
        f"{MD}/items/NEW", json={"name": "x", "uom": "EA", "kind": "buy"}, headers={"If-Match": "*"}
    )
    assert star.status_code == 412
    gone = await client.delete(f"{MD}/items/NUT", headers={"If-Match": '"2"'})
    assert gone.status_code == 412
    assert (await client.get(f"{MD}/items/NUT")).json()["name"] == "Nut M8"


async def test_a_key_in_the_body_must_match_the_path(client: Client) -> None:
    await base_units(client)
    r = await client.put(f"{MD}/items/A", json={"sku": "B", "name": "x", "uom": "EA", "kind": "buy"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sku"
    unknown_field = await client.put(
        f"{MD}/items/A", json={"name": "x", "uom": "EA", "kind": "buy", "lead": 3}
    )
    assert unknown_field.status_code == 422
    assert unknown_field.json()["errors"][0]["field"] == "lead"


async def test_delete_refuses_a_referenced_record_and_names_the_referrers(client: Client) -> None:
    await load_plant(client)
    used = await client.delete(f"{MD}/items/TUBE")
    assert used.status_code == 409
    assert used.json()["referrers"] == [{"kind": "bom", "key": "FRAME", "field": "lines.component"}]
    wc = await client.delete(f"{MD}/work-centers/WELD")
    assert wc.status_code == 409
    assert {r["key"] for r in wc.json()["referrers"]} == {"FRAME", "BIKE"}
    cal = await client.delete(f"{MD}/calendars/plant")
    assert cal.status_code == 409
    assert (await client.get(f"{MD}/items/TUBE")).status_code == 200

    assert (await client.delete(f"{MD}/boms/FRAME")).status_code == 204
    assert (await client.delete(f"{MD}/items/TUBE")).status_code == 204
    assert (await client.get(f"{MD}/items/TUBE")).status_code == 404
    assert (await client.delete(f"{MD}/items/TUBE")).status_code == 404


async def test_items_are_listed_with_filters_and_pages(client: Client) -> None:
    await load_plant(client)
    for i in range(5):
        await client.put_ok(f"/items/SCREW-{i}", {"name": f"Screw {i}", "uom": "EA", "kind": "buy"})
    page1 = (await client.get(f"{MD}/items", params={"page_size": 4})).json()
    assert [i["sku"] for i in page1["items"]] == ["BIKE", "FRAME", "SCREW-0", "SCREW-1"]
    page2 = (
        await client.get(f"{MD}/items", params={"page_size": 4, "page_token": page1["next_page_token"]})
    ).json()
    page3 = (
        await client.get(f"{MD}/items", params={"page_size": 4, "page_token": page2["next_page_token"]})
    ).json()
    assert [i["sku"] for i in page2["items"] + page3["items"]] == [
        "SCREW-2",
        "SCREW-3",
        "SCREW-4",
        "TUBE",
        "WHEEL",
    ]
    assert page3["next_page_token"] is None
    buy = (await client.get(f"{MD}/items", params={"kind": "buy", "q": "SCREW-"})).json()["items"]
    assert len(buy) == 5
    family = (await client.get(f"{MD}/items", params={"family": "BIKES"})).json()["items"]
    assert [i["sku"] for i in family] == ["BIKE"]
    phantoms = (await client.get(f"{MD}/items", params={"phantom": "true"})).json()["items"]
    assert phantoms == []
    bad = await client.get(f"{MD}/items", params={"kind": "steal"})
    assert bad.status_code == 422


async def test_every_kind_round_trips_through_put_and_get(client: Client) -> None:
    await load_plant(client)
    for path, key in [
        ("/boms/BIKE", "parent"),
        ("/routings/BIKE", "sku"),
        ("/work-centers/WELD", "code"),
        ("/calendars/plant", "code"),
        ("/suppliers/ACME", "code"),
        ("/units/KG", "code"),
        ("/families/BIKES", "code"),
    ]:
        got = await client.get(f"{MD}{path}")
        assert got.status_code == 200, path
        assert got.headers["etag"] == '"1"'
        again = await client.put(f"{MD}{path}", json=got.json())
        assert again.status_code == 200, (path, again.text)
        assert again.headers["etag"] == '"1"', f"{path}: the GET body put back is no change"
        assert got.json()[key]
    conv = await client.get(f"{MD}/unit-conversions/KG/G")
    assert conv.json()["factor"] == 1000
    created = await client.put(f"{MD}/unit-conversions/EA/G", params={"sku": "TUBE"}, json={"factor": 1})
    assert created.status_code == 201, created.text
    listed = (await client.get(f"{MD}/unit-conversions")).json()["items"]
    assert [(c["from_uom"], c["to_uom"], c["sku"]) for c in listed] == [
        ("EA", "G", "TUBE"),
        ("KG", "G", None),
    ]
    assert (await client.delete(f"{MD}/unit-conversions/EA/G", params={"sku": "TUBE"})).status_code == 204
