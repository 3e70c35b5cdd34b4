"""Quantities beyond 64-bit micro-units are still planned exactly (by the per-item engine)."""

from __future__ import annotations

from services.mrp.domain.model import BomLine, Item, SalesOrderLine, Snapshot
from tests.unit.mrp.helpers import d, orders, params, q, run


def test_a_plan_whose_quantities_overflow_64_bits_is_still_exact() -> None:
    # 1,000 units of A need 10^12 of D through three levels of 10,000 per parent: 10^18 micro-units
    # of D does not fit in a signed 64-bit integer once summed with more demand.
    items = tuple(Item(sku=s) for s in ("A", "B", "C", "D"))
    bom = (
        BomLine("A", "B", q(10_000)),
        BomLine("B", "C", q(10_000)),
        BomLine("C", "D", q(10_000)),
    )
    snapshot = Snapshot(
        parameters=params(),
        items=items,
        bom=bom,
        sales_orders=(
            SalesOrderLine("SO-1", 1, "A", q(1_000), d(10)),
            SalesOrderLine("SO-2", 1, "A", q(9_000), d(11)),
        ),
    )
    result = run(snapshot)  # checks the engine against the plain reference too
    assert orders(result, "D") == [("1000000000000000", d(10), d(10)), ("9000000000000000", d(11), d(11))]
