"""Each validation rule, on PUT and on import: a 422 naming field and record, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.masterdata.conftest import MD, Client, load_plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def state(client: Client) -> tuple[int, int, list[Any]]:
    items = (await client.get(f"{MD}/items")).json()["items"]
    return await client.changes(), await client.outbox(), items


async def refused(
    client: Client, method: str, path: str, body: dict[str, Any], **kw: Any
) -> list[dict[str, Any]]:
    before = await state(client)
    r = await client.request(method, f"{MD}{path}", json=body, **kw)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await state(client) == before, "nothing may change"
    errors: list[dict[str, Any]] = r.json()["errors"]
    return errors


CASES: list[tuple[str, str, dict[str, Any], str, str, str, str]] = [
    # (name, PUT path, body, import collection, field, code, record)
    (
        "unknown reference",
        "/items/X1",
        {"name": "x", "uom": "LB", "kind": "buy"},
        "items",
        "items/X1/uom",
        "unknown_reference",
        "items/X1",
    ),
    (
        "non-positive qty",
        "/boms/BIKE",
        {"lines": [{"component": "FRAME", "qty_per": 0}]},
        "boms",
        "boms/BIKE/lines/0/qty_per",
        "not_positive",
        "boms/BIKE",
    ),
    (
        "overlapping effectivity",
        "/boms/BIKE",
        {
            "lines": [
                {"component": "WHEEL", "qty_per": 2, "valid_to": "2030-01-01"},
                {"component": "WHEEL", "qty_per": 3, "valid_from": "2029-06-01"},
            ]
        },
        "boms",
        "boms/BIKE/lines/1/valid_from",
        "overlapping_effectivity",
        "boms/BIKE",
    ),
    (
        "routing without operations",
        "/routings/FRAME",
        {"operations": []},
        "routings",
        "routings/FRAME/operations",
        "empty",
        "routings/FRAME",
    ),
    (
        "overlapping shifts",
        "/calendars/plant",
        {"weekdays": {"mon": [["06:00", "14:00"], ["13:00", "22:00"]]}},
        "calendars",
        "calendars/plant/weekdays/mon/1",
        "overlapping_shifts",
        "calendars/plant",
    ),
    (
        "missing unit conversion",
        "/boms/FRAME",
        {"lines": [{"component": "TUBE", "qty_per": 3, "uom": "EA"}]},
        "boms",
        "boms/FRAME/lines/0/uom",
        "unknown_conversion",
        "boms/FRAME",
    ),
]


@pytest.mark.parametrize(
    ("name", "path", "body", "collection", "field", "code", "record"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_bad_put_is_a_422_naming_field_and_record(
    client: Client,
    name: str,
    path: str,
    body: dict[str, Any],
    collection: str,
    field: str,
    code: str,
    record: str,
) -> None:
    await load_plant(client)
    errors = await refused(client, "PUT", path, body)
    assert {"field": field, "code": code, "record": record} in [
        {k: e[k] for k in ("field", "code", "record")} for e in errors
    ], errors


@pytest.mark.parametrize(
    ("name", "path", "body", "collection", "field", "code", "record"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_bad_import_is_a_422_and_applies_nothing_of_the_batch(
    client: Client,
    name: str,
    path: str,
    body: dict[str, Any],
    collection: str,
    field: str,
    code: str,
    record: str,
) -> None:
    await load_plant(client)
    key_field = {"items": "sku", "boms": "parent", "routings": "sku", "calendars": "code"}[collection]
    bad = {**body, key_field: path.rsplit("/", 1)[1]}
    good_item = {"sku": "FINE", "name": "fine", "uom": "EA", "kind": "buy"}
    batch = {"items": [good_item]} if collection != "items" else {"items": [good_item, bad]}
    if collection != "items":
        batch[collection] = [bad]
    errors = await refused(client, "POST", "/imports", batch, headers={"Idempotency-Key": f"bad-{name}"})
    assert any(e["field"] == field and e["code"] == code and e["record"] == record for e in errors), errors
    assert (await client.get(f"{MD}/items/FINE")).status_code == 404
    again = await client.post(f"{MD}/imports", json=batch, headers={"Idempotency-Key": f"bad-{name}"})
    assert again.status_code == 422, "a failed request records nothing: it fails again, not replayed"


async def test_a_bom_cycle_is_a_422_naming_the_path(client: Client) -> None:
    await load_plant(client)
    errors = await refused(client, "PUT", "/boms/TUBE", {"lines": [{"component": "BIKE", "qty_per": 1}]})
    assert errors[0]["code"] == "bom_cycle"
    assert errors[0]["record"] == "boms/TUBE"
    assert errors[0]["field"] == "boms/TUBE/lines/0/component"
    assert "TUBE → BIKE → FRAME → TUBE" in errors[0]["message"]
    in_import = await refused(
        client,
        "POST",
        "/imports",
        {"boms": [{"parent": "WHEEL", "lines": [{"component": "BIKE", "qty_per": 1}]}]},
    )
    assert "WHEEL → BIKE → WHEEL" in in_import[0]["message"]


async def test_every_problem_of_a_write_is_named_at_once(client: Client) -> None:
    await load_plant(client)
    errors = await refused(
        client,
        "PUT",
        "/items/X2",
        {"name": "x", "uom": "LB", "kind": "buy", "family": "NOPE", "lead_time_days": -1, "phantom": True},
    )
    assert {e["field"] for e in errors} == {
        "items/X2/uom",
        "items/X2/family",
        "items/X2/lead_time_days",
        "items/X2/phantom",
    }
