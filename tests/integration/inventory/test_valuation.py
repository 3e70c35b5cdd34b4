"""FIFO, weighted average and standard valuation through the API, hand-computed to the cent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def value(inv: Inventory, method: str, **params: Any) -> dict[str, Any]:
    r = await inv.client.get("/v1/inventory/valuation", params={"method": method, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def by_sku(report: dict[str, Any]) -> dict[str, tuple[Any, Any, Any]]:
    return {i["sku"]: (i["qty"], i["unit_cost"], i["value"]) for i in report["items"]}


@pytest.fixture
async def history(inv: Inventory) -> Inventory:
    """A: 10 @ 2.00 (Jan 5), 10 @ 3.00 (Jan 10), issue 15 (Jan 15), 5 @ 4.10 (Jan 20); standard 2.80.
    B: 3 @ 1.115 (Jan 6), issue 1 (Jan 7); no standard cost."""
    await inv.item("A", standard_cost="2.80")
    await inv.item("B")
    await inv.client.put("/v1/inventory/locations/B-01", json={"name": "Bin 1"})
    await inv.ok(type="receipt", sku="A", qty=10, unit_cost="2.00", at="2025-01-05T08:00:00Z")
    await inv.ok(type="receipt", sku="B", qty=3, unit_cost="1.115", at="2025-01-06T08:00:00Z")
    await inv.ok(type="issue", sku="B", qty=1, at="2025-01-07T08:00:00Z")
    await inv.ok(type="receipt", sku="A", qty=10, unit_cost="3.00", at="2025-01-10T08:00:00Z")
    await inv.ok(type="transfer", sku="A", qty=5, to_location="B-01", at="2025-01-11T08:00:00Z")
    issue = await inv.ok(type="issue", sku="A", qty=15, at="2025-01-15T08:00:00Z")
    assert issue["fifo_value"] == -35  # 10 @ 2.00 + 5 @ 3.00
    assert issue["average_value"] == -37.5  # 15 @ 2.50
    last = await inv.ok(type="receipt", sku="A", qty=5, unit_cost="4.10", at="2025-01-20T08:00:00Z")
    assert last["purchase_price_variance"] == 6.5  # 20.50 paid - 14.00 at standard
    return inv


async def test_fifo_values_the_oldest_layers_out_first(history: Inventory) -> None:
    report = await value(history, "fifo")
    assert by_sku(report) == {"A": (10, 3.55, 35.5), "B": (2, 1.115, 2.23)}
    assert report["total"] == 37.73


async def test_weighted_average_recomputes_at_each_receipt(history: Inventory) -> None:
    report = await value(history, "average")
    # A: avg 2.50 after the 2nd receipt; 5 left = 12.50; (12.50 + 20.50) / 10 = 3.30
    assert by_sku(report) == {"A": (10, 3.3, 33), "B": (2, 1.115, 2.23)}
    assert report["total"] == 35.23


async def test_standard_cost_values_at_standard_and_books_the_price_variance(history: Inventory) -> None:
    report = await value(history, "standard")
    items = {i["sku"]: i for i in report["items"]}
    assert (items["A"]["qty"], items["A"]["unit_cost"], items["A"]["value"]) == (10, 2.8, 28)
    # -8.00 + 2.00 + 6.50
    assert items["A"]["purchase_price_variance"] == 0.5
    assert items["B"]["value"] == 0
    assert report["missing_standard_costs"] == ["B"]
    assert report["total"] == 28


async def test_valuation_as_of_a_date_reads_the_ledger_up_to_that_day(history: Inventory) -> None:
    assert by_sku(await value(history, "fifo", as_of="2025-01-05")) == {"A": (10, 2, 20)}
    jan12 = await value(history, "fifo", as_of="2025-01-12")
    assert by_sku(jan12) == {"A": (20, 2.5, 50), "B": (2, 1.115, 2.23)}
    assert jan12["total"] == 52.23
    assert by_sku(await value(history, "average", as_of="2025-01-15")) == {
        "A": (5, 2.5, 12.5),
        "B": (2, 1.115, 2.23),
    }
    assert by_sku(await value(history, "fifo", as_of="2025-01-15T07:59:59Z"))["A"] == (20, 2.5, 50)
    standard = await value(history, "standard", as_of="2025-01-12", sku="A")
    assert standard["items"] == [
        {"sku": "A", "qty": 20, "unit_cost": 2.8, "value": 56, "purchase_price_variance": -6}
    ]
    assert (await value(history, "fifo", as_of="2024-12-31"))["items"] == []


async def test_a_positive_adjustment_comes_in_at_the_cost_carried(inv: Inventory) -> None:
    await inv.item("C")
    await inv.ok(type="receipt", sku="C", qty=4, unit_cost="2.50")
    adj = await inv.ok(type="adjustment", sku="C", qty=2, reason="found")
    assert adj["fifo_value"] == 5
    scrap = await inv.ok(type="scrap", sku="C", qty=1, reason="broken")
    assert scrap["fifo_value"] == -2.5
    assert by_sku(await value(inv, "fifo")) == {"C": (5, 2.5, 12.5)}


async def test_the_valuation_built_by_postgresql_equals_the_one_computed_in_python(inv: Inventory) -> None:
    """``GET /valuation`` (JSON written by PostgreSQL) against ``handlers.valuation`` (Decimals)."""
    from decimal import Decimal

    from services.inventory import handlers
    from services.inventory.api.schemas import number, parse_as_of
    from services.inventory.domain.valuation import CostMethod

    await inv.item("Q", standard_cost="1.3333335")
    await inv.item("R")  # no standard cost
    await inv.ok(type="receipt", sku="Q", qty=3, unit_cost="1.115", at="2025-02-01T08:00:00Z")
    await inv.ok(type="receipt", sku="Q", qty=7, unit_cost="0.3333333", at="2025-02-02T08:00:00Z")
    await inv.ok(type="issue", sku="Q", qty="4.5", at="2025-02-03T08:00:00Z")
    r = await inv.client.put("/v1/inventory/locations/NEG", json={"name": "N", "allow_negative": True})
    assert r.status_code in (200, 201), r.text
    await inv.ok(
        type="receipt", sku="R", qty=1, unit_cost="2.0000005", location="NEG", at="2025-02-01T09:00:00Z"
    )
    await inv.ok(type="issue", sku="R", qty=3, location="NEG", at="2025-02-04T08:00:00Z")  # negative stock
    for method in CostMethod:
        for as_of in (None, "2025-02-02", "2025-02-03T08:00:00Z"):
            params = {"method": method.value} | ({"as_of": as_of} if as_of else {})
            answer = await value(inv, method.value, **({"as_of": as_of} if as_of else {}))
            async with inv.app.state.runtime.sessionmaker() as session:
                items, total, missing = await handlers.valuation(
                    session, method, as_of=parse_as_of(as_of), sku=None
                )
            expected = [
                {
                    "sku": i.sku,
                    "qty": number(i.qty),
                    "unit_cost": number(i.unit_cost),
                    "value": number(i.value),
                    "purchase_price_variance": None
                    if i.purchase_price_variance is None
                    else number(i.purchase_price_variance),
                }
                for i in items
            ]
            assert answer["items"] == expected, params
            assert Decimal(str(answer["total"])) == total, params
            assert answer["missing_standard_costs"] == missing, params
            assert answer["method"] == method.value
            assert answer["as_of"] == as_of
