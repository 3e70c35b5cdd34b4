"""The movement ledger and balances through the API, on real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_receipt_then_an_issue_leave_the_balance_and_the_ledger(inv: Inventory) -> None:
    await inv.item("RM-1")
    r = await inv.ok(type="receipt", sku="RM-1", qty=20, unit_cost="2.50")
    assert r["location"] == "MAIN"
    assert r["balances"] == [
        {
            "sku": "RM-1",
            "location": "MAIN",
            "lot": None,
            "on_hand": 20,
            "reserved": 0,
            "available": 20,
            "qty_delta": 20,
        }
    ]
    assert r["fifo_value"] == 50
    i = await inv.ok(type="issue", sku="RM-1", qty="7.5")
    assert i["balances"][0]["on_hand"] == 12.5
    assert i["fifo_value"] == -18.75
    assert await inv.balances(sku="RM-1") == [
        {"sku": "RM-1", "location": "MAIN", "lot": None, "on_hand": 12.5, "reserved": 0, "available": 12.5}
    ]
    listed = await inv.client.get("/v1/inventory/movements", params={"sku": "RM-1"})
    assert [m["type"] for m in listed.json()["items"]] == ["receipt", "issue"]


async def test_a_transfer_moves_stock_between_locations_and_keeps_the_lot(inv: Inventory) -> None:
    await inv.item("RM-2")
    r = await inv.client.put("/v1/inventory/locations/B-01", json={"name": "Bin 1"})
    assert r.status_code == 201, r.text
    await inv.ok(type="receipt", sku="RM-2", qty=10, unit_cost=1, lot="L1")
    t = await inv.ok(type="transfer", sku="RM-2", qty=4, lot="L1", to_location="B-01")
    assert [(b["location"], b["qty_delta"], b["on_hand"]) for b in t["balances"]] == [
        ("MAIN", -4, 6),
        ("B-01", 4, 4),
    ]
    assert t["fifo_value"] == 0
    assert [(b["location"], b["lot"], b["on_hand"]) for b in await inv.balances(sku="RM-2")] == [
        ("B-01", "L1", 4),
        ("MAIN", "L1", 6),
    ]


async def test_a_replayed_movement_answers_the_first_response_and_books_once(inv: Inventory) -> None:
    await inv.item("RM-3")
    body = {"type": "receipt", "sku": "RM-3", "qty": 5, "unit_cost": 1}
    first = await inv.move("same", **body)
    again = await inv.move("same", **body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == f"/v1/inventory/movements/{first.json()['id']}"
    other = await inv.move("same", **{**body, "qty": 6})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    missing = await inv.client.post("/v1/inventory/movements", json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await inv.ledger_count() == 1
    assert await inv.on_hand("RM-3") == 5


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"type": "issue", "sku": "NOPE", "qty": 1}, 422, "sku"),
        ({"type": "issue", "sku": "RM-4", "qty": 0}, 422, "qty"),
        ({"type": "issue", "sku": "RM-4", "qty": -2}, 422, "qty"),
        ({"type": "receipt", "sku": "RM-4", "qty": 1}, 422, "unit_cost"),
        ({"type": "adjustment", "sku": "RM-4", "qty": -1}, 422, "reason"),
        ({"type": "adjustment", "sku": "RM-4", "qty": -1, "reason": "  "}, 422, "reason"),
        ({"type": "scrap", "sku": "RM-4", "qty": 1}, 422, "reason"),
        ({"type": "issue", "sku": "RM-4", "qty": 1, "location": "NOWHERE"}, 422, "location"),
        ({"type": "transfer", "sku": "RM-4", "qty": 1, "to_location": "NOWHERE"}, 422, "to_location"),
        ({"type": "transfer", "sku": "RM-4", "qty": 1}, 422, "to_location"),
        ({"type": "issue", "sku": "RM-4", "qty": "lots"}, 422, "qty"),
        ({"type": "teleport", "sku": "RM-4", "qty": 1}, 422, "type"),
        ({"type": "issue", "sku": "RM-4", "qty": 11}, 409, "qty"),
        ({"type": "scrap", "sku": "RM-4", "qty": 11, "reason": "broken"}, 409, "qty"),
        ({"type": "issue", "sku": "RM-4", "qty": 1, "at": "2000-01-01T00:00:00Z"}, 422, "at"),
        ({"type": "issue", "sku": "RM-4", "qty": 1, "at": "2999-01-01T00:00:00Z"}, 422, "at"),
    ],
)
async def test_a_bad_movement_is_a_problem_naming_the_field_and_changes_nothing(
    inv: Inventory, body: dict[str, Any], status: int, field: str
) -> None:
    await inv.item("RM-4")
    await inv.ok(type="receipt", sku="RM-4", qty=10, unit_cost=1)
    before = await inv.balances()
    r = await inv.move(**body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    if status == 409:
        assert r.json()["requested"] == "11"
        assert r.json()["available"] == "10"
    assert await inv.balances() == before
    assert await inv.ledger_count() == 1
    assert len(await inv.outbox("jalon.inventory.stock.changed")) == 1


async def test_stock_goes_negative_only_where_the_location_allows_it(inv: Inventory) -> None:
    await inv.item("RM-5")
    refused = await inv.move(type="issue", sku="RM-5", qty=3)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "qty"
    r = await inv.client.put(
        "/v1/inventory/locations/LINE-1", json={"name": "Line side", "allow_negative": True}
    )
    assert r.status_code == 201
    allowed = await inv.ok(type="issue", sku="RM-5", qty=3, location="LINE-1")
    assert allowed["balances"][0]["on_hand"] == -3
    assert await inv.on_hand("RM-5", "LINE-1") == -3
    assert await inv.ledger_count() == 1


async def test_balances_as_of_a_past_date_replay_the_dated_movements(inv: Inventory) -> None:
    await inv.item("RM-6")
    await inv.client.put("/v1/inventory/locations/B-01", json={"name": "Bin 1"})
    await inv.ok(type="receipt", sku="RM-6", qty=10, unit_cost=1, at="2025-01-05T10:00:00Z")
    await inv.ok(type="issue", sku="RM-6", qty=3, at="2025-01-10T10:00:00Z")
    await inv.ok(type="transfer", sku="RM-6", qty=2, to_location="B-01", at="2025-01-12T10:00:00Z")
    await inv.ok(type="adjustment", sku="RM-6", qty=1, reason="found", at="2025-01-14T10:00:00+02:00")

    async def as_of(when: str) -> list[tuple[str, object]]:
        return [(b["location"], b["on_hand"]) for b in await inv.balances(sku="RM-6", as_of=when)]

    assert await as_of("2025-01-04") == []
    assert await as_of("2025-01-05") == [("MAIN", 10)]
    assert await as_of("2025-01-10T09:59:59Z") == [("MAIN", 10)]
    assert await as_of("2025-01-10T10:00:00Z") == [("MAIN", 7)]
    assert await as_of("2025-01-12") == [("B-01", 2), ("MAIN", 5)]
    assert await as_of("2025-01-14") == [("B-01", 2), ("MAIN", 6)]
    now = await inv.balances(sku="RM-6")
    assert [(b["location"], b["on_hand"]) for b in now] == [("B-01", 2), ("MAIN", 6)]
    bad = await inv.client.get("/v1/inventory/balances", params={"as_of": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.as_of"


async def test_locations_honour_etag_and_if_match(inv: Inventory) -> None:
    created = await inv.client.put("/v1/inventory/locations/QUAR", json={"name": "Quarantine"})
    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    assert created.json()["nettable"] is True
    updated = await inv.client.put(
        "/v1/inventory/locations/QUAR",
        json={"name": "Quarantine", "nettable": False},
        headers={"If-Match": '"1"'},
    )
    assert updated.status_code == 200
    assert updated.headers["etag"] == '"2"'
    stale = await inv.client.put(
        "/v1/inventory/locations/QUAR", json={"name": "Q"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    got = await inv.client.get("/v1/inventory/locations/QUAR")
    assert got.headers["etag"] == '"2"'
    assert got.json()["nettable"] is False
    assert got.json()["name"] == "Quarantine"
    listed = await inv.client.get("/v1/inventory/locations")
    assert [loc["code"] for loc in listed.json()["items"]] == ["MAIN", "QUAR"]
    assert (await inv.client.get("/v1/inventory/locations/NOPE")).status_code == 404


async def test_a_received_lot_keeps_its_expiry_and_can_be_updated(inv: Inventory) -> None:
    await inv.item("RM-7")
    await inv.ok(type="receipt", sku="RM-7", qty=1, unit_cost=1, lot="L-9", expiry="2030-06-30")
    lot = await inv.client.get("/v1/inventory/lots/RM-7/L-9")
    assert lot.status_code == 200
    assert lot.json()["expiry"] == "2030-06-30"
    put = await inv.client.put(
        "/v1/inventory/lots/RM-7/L-9",
        json={"expiry": "2030-07-31"},
        headers={"If-Match": lot.headers["etag"]},
    )
    assert put.status_code == 200
    assert put.json()["expiry"] == "2030-07-31"
    unknown = await inv.client.put("/v1/inventory/lots/NOPE/L-1", json={})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "path.sku"


async def test_every_movement_emits_stock_changed_in_its_transaction(inv: Inventory) -> None:
    await inv.item("RM-8")
    r = await inv.ok(type="receipt", sku="RM-8", qty=4, unit_cost="1.25", reference="PO-1")
    await inv.ok(type="issue", sku="RM-8", qty=1)
    events = await inv.outbox("jalon.inventory.stock.changed")
    assert len(events) == 2
    first = events[0]
    assert first["type"] == "jalon.inventory.stock.changed"
    assert first["source"] == "/jalon/inventory"
    assert first["subject"] == "RM-8"
    data = first["data"]
    assert data["movement_id"] == r["id"]
    assert (data["type"], data["sku"], data["location"], data["lot"]) == ("receipt", "RM-8", "MAIN", None)
    assert (data["qty_delta"], data["on_hand"], data["reserved"], data["available"]) == ("4", "4", "0", "4")
    assert data["unit_cost"] == "1.25"
    assert events[1]["data"]["qty_delta"] == "-1"
    assert events[1]["data"]["unit_cost"] == "1.250000"
