"""Reservations (FIFO / FEFO lot choice), release, consumption and the pick list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


def days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat()


async def reserve(inv: Inventory, **body: Any) -> httpx.Response:
    return await inv.client.post(
        "/v1/inventory/reservations", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


@pytest.fixture
async def lots(inv: Inventory) -> Inventory:
    """L1 received 10 days ago, expires in 2030-03; L2 received 5 days ago, expires sooner (2030-02);
    both 10 units, in bins B-02 and B-01; 5 more in a non-nettable quarantine."""
    await inv.item("RM")
    for code, nettable in (("B-01", True), ("B-02", True), ("QUAR", False)):
        await inv.client.put(f"/v1/inventory/locations/{code}", json={"name": code, "nettable": nettable})
    await inv.ok(
        type="receipt",
        sku="RM",
        qty=10,
        unit_cost=1,
        lot="L1",
        expiry="2030-03-01",
        location="B-02",
        at=days_ago(10),
    )
    await inv.ok(
        type="receipt",
        sku="RM",
        qty=10,
        unit_cost=1,
        lot="L2",
        expiry="2030-02-01",
        location="B-01",
        at=days_ago(5),
    )
    await inv.ok(type="receipt", sku="RM", qty=5, unit_cost=1, lot="L3", location="QUAR", at=days_ago(1))
    return inv


async def test_fifo_reserves_the_lots_received_first(lots: Inventory) -> None:
    r = await reserve(lots, order="MO-1", sku="RM", qty=12, policy="fifo")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "open"
    assert body["lines"] == [
        {"location": "B-02", "lot": "L1", "qty": 10},
        {"location": "B-01", "lot": "L2", "qty": 2},
    ]
    balances = {b["lot"]: b for b in await lots.balances(sku="RM")}
    assert (balances["L1"]["reserved"], balances["L1"]["available"]) == (10, 0)
    assert (balances["L2"]["reserved"], balances["L2"]["available"]) == (2, 8)
    created = await lots.outbox("jalon.inventory.reservation.created")
    assert created[0]["data"]["reservation_id"] == body["id"]
    assert created[0]["data"]["order"] == "MO-1"
    # reserved stock cannot be issued by someone else
    taken = await lots.move(type="issue", sku="RM", qty=1, location="B-02", lot="L1")
    assert taken.status_code == 409


async def test_fefo_reserves_the_lots_expiring_first_and_the_pick_list_walks_the_bins(
    lots: Inventory,
) -> None:
    r = await reserve(lots, order="MO-2", sku="RM", qty=12, policy="fefo")
    assert r.json()["lines"] == [
        {"location": "B-01", "lot": "L2", "qty": 10},
        {"location": "B-02", "lot": "L1", "qty": 2},
    ]
    pick = await lots.client.get("/v1/inventory/orders/MO-2/pick-list")
    assert pick.json() == {
        "order": "MO-2",
        "items": [
            {"sku": "RM", "lot": "L2", "bin": "B-01", "qty": 10},
            {"sku": "RM", "lot": "L1", "bin": "B-02", "qty": 2},
        ],
    }


async def test_never_more_than_available_and_quarantine_is_not_reservable(lots: Inventory) -> None:
    before = await lots.balances(sku="RM")
    short = await reserve(lots, order="MO-3", sku="RM", qty=21)
    assert short.status_code == 409
    assert short.json()["available"] == "20"
    assert await lots.balances(sku="RM") == before
    partial = await reserve(lots, order="MO-3", sku="RM", qty=21, allow_partial=True)
    assert partial.status_code == 201
    assert (partial.json()["reserved"], partial.json()["short"]) == (20, 1)
    unknown = await reserve(lots, order="MO-3", sku="NOPE", qty=1)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "sku"


async def test_release_gives_the_stock_back(lots: Inventory) -> None:
    r = (await reserve(lots, order="MO-4", sku="RM", qty=12)).json()
    partial = await lots.client.delete(f"/v1/inventory/reservations/{r['id']}", params={"qty": 2})
    assert partial.status_code == 200
    assert partial.json()["lines"] == [{"location": "B-02", "lot": "L1", "qty": 10}]
    released = await lots.client.delete(f"/v1/inventory/reservations/{r['id']}")
    assert released.json()["status"] == "released"
    assert released.json()["released"] == 12
    assert all(b["reserved"] == 0 for b in await lots.balances(sku="RM"))
    again = await lots.client.delete(f"/v1/inventory/reservations/{r['id']}")
    assert again.status_code == 409
    assert len(await lots.outbox("jalon.inventory.reservation.released")) == 2
    assert (await lots.client.get("/v1/inventory/reservations/nope")).status_code == 404


async def test_consumption_issues_the_reserved_stock(lots: Inventory) -> None:
    r = (await reserve(lots, order="MO-5", sku="RM", qty=12)).json()
    part = await lots.client.post(f"/v1/inventory/reservations/{r['id']}/consume", json={"qty": 11})
    assert part.status_code == 200, part.text
    assert part.json()["held"] == 1
    assert len(part.json()["movements"]) == 2
    rest = await lots.client.post(f"/v1/inventory/reservations/{r['id']}/consume")
    assert rest.json()["status"] == "consumed"
    assert rest.json()["consumed"] == 12
    on_hand = {b["lot"]: (b["on_hand"], b["reserved"]) for b in await lots.balances(sku="RM")}
    assert on_hand == {"L2": (8, 0), "L3": (5, 0)}
    issues = await lots.client.get("/v1/inventory/movements", params={"type": "issue", "reference": "MO-5"})
    assert [(m["lot"], m["qty"], m["reservation_id"]) for m in issues.json()["items"]] == [
        ("L1", 10, r["id"]),
        ("L2", 1, r["id"]),
        ("L2", 1, r["id"]),
    ]
    consumed = await lots.outbox("jalon.inventory.reservation.consumed")
    assert [e["data"]["qty"] for e in consumed] == ["11", "1"]
    assert (await lots.client.get("/v1/inventory/orders/MO-5/pick-list")).json()["items"] == []
