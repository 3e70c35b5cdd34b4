"""The order book: life cycle, wrong transitions, release without inventory, purchase orders."""

from __future__ import annotations

from decimal import Decimal

from services.mrp.handlers.orders import explode_one_level, preferred_supplier, purchase_quantity
from services.mrp.handlers.stock import available_by_sku, shortages
from services.mrp.snapshot import bom_lines_of
from tests.integration.mrp.conftest import Mrp


def make(sku: str = "BIKE", status: str = "firm", qty: int = 10) -> dict[str, object]:
    return {
        "kind": "make",
        "sku": sku,
        "quantity": qty,
        "release_date": "2026-11-04",
        "due_date": "2026-11-06",
        "status": status,
    }


async def test_a_make_order_walks_its_life_cycle_and_a_wrong_step_is_a_409_naming_the_status(
    mrp: Mrp,
) -> None:
    await mrp.item("BIKE")
    created = await mrp.client.post(
        "/v1/mrp/orders", json=make(status="planned"), headers={"Idempotency-Key": "o-1"}
    )
    assert created.status_code == 201, created.text
    order = created.json()
    url = f"/v1/mrp/orders/{order['id']}"
    assert order["status"] == "planned"
    assert order["remaining_qty"] == 10
    wrong = await mrp.client.post(f"{url}/start")
    assert wrong.status_code == 409
    assert wrong.json()["type"] == "invalid-transition"
    assert wrong.json()["current_status"] == "planned"
    assert (await mrp.client.post(f"{url}/firm", headers={"If-Match": '"9"'})).status_code == 412
    assert (await mrp.client.post(f"{url}/firm")).json()["status"] == "firm"
    # No BOM: nothing to check with inventory.
    released = await mrp.client.post(f"{url}/release")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["components"] == []
    assert (await mrp.client.post(f"{url}/start")).json()["status"] == "in_progress"
    assert (await mrp.client.post(f"{url}/close")).json()["current_status"] == "in_progress"
    done = await mrp.client.post(f"{url}/complete", json={"good_qty": 9})
    assert done.json()["status"] == "done"
    assert done.json()["received_qty"] == 9
    closed = await mrp.client.post(f"{url}/close")
    assert closed.json()["status"] == "closed"
    assert closed.headers["etag"] == f'"{closed.json()["version"]}"'
    assert (await mrp.client.post(f"{url}/cancel")).status_code == 409
    completed = await mrp.events("jalon.mrp.order.completed")
    assert completed[0]["data"] == {
        "order": order["id"],
        "order_id": order["id"],
        "sku": "BIKE",
        "good_qty": 9,
        "quantity": 10,
    }
    assert len(await mrp.events("jalon.mrp.order.released")) == 1
    assert (await mrp.client.get("/v1/mrp/orders", params={"status": "closed"})).json()["items"][0][
        "id"
    ] == order["id"]


async def test_a_bad_order_is_a_422_naming_each_field(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    r = await mrp.client.post(
        "/v1/mrp/orders", json={**make(sku="NOPE"), "due_date": "2026-11-01", "supplier": "ACME"}
    )
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["due_date", "sku", "supplier", "supplier"]
    assert await mrp.scalar("SELECT count(*) FROM orders") == 0


async def test_releasing_a_make_order_while_inventory_is_away_is_a_503_and_changes_nothing(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    await mrp.item("FRAME", kind="buy")
    await mrp.bom("BIKE", [("FRAME", 1)])
    order = (await mrp.client.post("/v1/mrp/orders", json=make())).json()
    r = await mrp.client.post(f"/v1/mrp/orders/{order['id']}/release")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert (await mrp.client.get(f"/v1/mrp/orders/{order['id']}")).json()["status"] == "firm"
    assert await mrp.events("jalon.mrp.order.released") == []


async def test_buy_orders_are_grouped_by_preferred_supplier_and_received(mrp: Mrp) -> None:
    await mrp.item("BOLT", kind="buy")
    await mrp.item("NUT", kind="buy")
    await mrp.item("GLUE", kind="buy")
    await mrp.seed(
        "supplier",
        "S1",
        {"code": "S1", "items": [{"sku": "BOLT", "priority": 2, "price": 1, "min_order_qty": 0}]},
    )
    await mrp.seed(
        "supplier",
        "S2",
        {
            "code": "S2",
            "items": [
                {"sku": "BOLT", "priority": 1, "price": 3, "min_order_qty": 100, "multiple": 25},
                {"sku": "NUT", "priority": 1, "price": "0.5", "min_order_qty": 0, "multiple": 10},
            ],
        },
    )
    ids = []
    for sku, qty in (("BOLT", 30), ("NUT", 42), ("GLUE", 1)):
        body = {
            "kind": "buy",
            "sku": sku,
            "quantity": qty,
            "release_date": "2026-11-02",
            "due_date": "2026-11-09",
            "status": "planned",
        }
        ids.append((await mrp.client.post("/v1/mrp/orders", json=body)).json()["id"])
    grouped = await mrp.client.post("/v1/mrp/purchase-orders/group", json={})
    assert grouped.status_code == 200, grouped.text
    body = grouped.json()
    assert body["unassigned"] == [ids[2]]
    [po] = body["purchase_orders"]
    assert po["supplier"] == "S2"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in po["lines"]] == [
        ("BOLT", 100, 3),
        ("NUT", 50, 0.5),
    ]
    assert po["total"] == 325
    bolt = (await mrp.client.get(f"/v1/mrp/orders/{ids[0]}")).json()
    assert (bolt["status"], bolt["supplier"], bolt["purchase_order_id"]) == ("firm", "S2", po["id"])
    part = await mrp.client.post(f"/v1/mrp/orders/{ids[0]}/receive", json={"qty": 60, "location": "DOCK"})
    assert part.json()["status"] == "firm"
    assert part.json()["remaining_qty"] == 40
    full = await mrp.client.post(f"/v1/mrp/orders/{ids[0]}/receive", json={"qty": 40, "unit_cost": "2.9"})
    assert full.json()["status"] == "done"
    received = await mrp.events("jalon.mrp.purchase.received")
    assert [(e["data"]["qty"], e["data"]["unit_cost"], e["data"].get("location", "?")) for e in received] == [
        (60, 3, "DOCK"),
        (40, 2.9, "?"),
    ]
    assert received[0]["data"]["purchase_order_id"] == po["id"]
    assert (await mrp.client.post(f"/v1/mrp/orders/{ids[0]}/receive", json={"qty": 1})).status_code == 409
    again = await mrp.client.post("/v1/mrp/purchase-orders/group", json={})
    assert again.json()["purchase_orders"] == []


def test_availability_sums_available_over_nettable_locations_only() -> None:
    rows: list[dict[str, object]] = [
        {"sku": "A", "location": "MAIN", "lot": None, "on_hand": 10, "reserved": 3, "available": 7},
        {"sku": "A", "location": "QA", "lot": None, "on_hand": 50, "reserved": 0, "available": 50},
        {
            "sku": "A",
            "location": "B2",
            "lot": "L1",
            "on_hand": 4,
            "reserved": 0,
            "available": 4,
            "nettable": True,
        },
        {"sku": "B", "location": "MAIN", "lot": None, "on_hand": 2, "reserved": 0},
    ]
    available = available_by_sku(rows, {"MAIN": True, "QA": False})
    assert available == {"A": Decimal(11), "B": Decimal(2)}
    assert shortages({"A": Decimal(12), "B": Decimal(2), "C": Decimal("0.5")}, available) == [
        {"sku": "A", "required": Decimal(12), "available": Decimal(11), "short": Decimal(1)},
        {"sku": "C", "required": Decimal("0.5"), "available": Decimal(0), "short": Decimal("0.5")},
    ]


def test_release_explodes_one_level_with_scrap_effectivity_and_phantoms_passed_through() -> None:
    from datetime import date

    boms = {
        "BIKE": bom_lines_of(
            {
                "parent": "BIKE",
                "lines": [
                    {"component": "FRAME", "qty_per": 1, "scrap_pct": 4},
                    {"component": "KIT", "qty_per": 2},
                    {"component": "OLD", "qty_per": 1, "valid_to": "2026-11-01"},
                ],
            }
        ),
        "KIT": bom_lines_of({"parent": "KIT", "lines": [{"component": "BOLT", "qty_per": 3}]}),
        "FRAME": bom_lines_of({"parent": "FRAME", "lines": [{"component": "TUBE", "qty_per": 3}]}),
    }
    need = explode_one_level("BIKE", Decimal(10), date(2026, 11, 4), boms, {"KIT"})
    assert need == {"FRAME": Decimal("10.416667"), "BOLT": Decimal(60)}


def test_the_preferred_supplier_is_the_lowest_priority_then_the_cheapest() -> None:
    suppliers = {
        "A": {"items": [{"sku": "X", "priority": 2, "price": 1}]},
        "B": {"items": [{"sku": "X", "priority": 1, "price": 5}]},
        "C": {"items": [{"sku": "X", "priority": 1, "price": 4}]},
    }
    assert preferred_supplier("X", suppliers) == ("C", {"sku": "X", "priority": 1, "price": 4})
    assert preferred_supplier("Y", suppliers) is None
    assert purchase_quantity(Decimal(7), {"min_order_qty": 5, "multiple": 4}) == 8
    assert purchase_quantity(Decimal(3), {"min_order_qty": 5, "multiple": 4}) == 8
