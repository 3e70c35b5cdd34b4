from dataclasses import replace
from decimal import Decimal

from services.mrp.domain.diff import diff_results
from services.mrp.domain.model import BomLine, Item, SalesOrderLine, Snapshot
from services.mrp.domain.netting import net_change, run_mrp
from tests.unit.mrp.helpers import d, orders, params, q

# A -> B -> C and D -> C: a change on A re-plans A, B, C but not D.
BASE = Snapshot(
    params(),
    items=(Item("A", lead_time_days=1), Item("B", lead_time_days=1), Item("C"), Item("D", lead_time_days=2)),
    bom=(BomLine("A", "B", q(2)), BomLine("B", "C", q(1)), BomLine("D", "C", q(3))),
    sales_orders=(SalesOrderLine("S1", 1, "A", q(5), d(10)), SalesOrderLine("S2", 1, "D", q(1), d(12))),
)


def test_net_change_replans_only_the_changed_item_and_its_components():
    previous = run_mrp(BASE)
    changed = replace(BASE, sales_orders=(*BASE.sales_orders, SalesOrderLine("S3", 1, "A", q(4), d(13))))
    result = net_change(previous, changed, {"A"})
    assert result == run_mrp(changed)
    assert result.items_planned == 3
    # A: 5 due Tue 10 (released Mon 9) and 4 due Fri 13 (released Thu 12); B: 10 released Fri 6,
    # 8 due Thu 12 released Wed 11; D: 1 due Thu 12 released Tue 10 -> C: 10 on 6, 3 on 10, 8 on 11.
    assert orders(result, "C") == [("10", d(6), d(6)), ("3", d(10), d(10)), ("8", d(11), d(11))]


def test_net_change_after_removing_a_bom_line_clears_the_old_component():
    previous = run_mrp(BASE)
    changed = replace(BASE, bom=(BomLine("A", "B", q(2)), BomLine("D", "C", q(3))))
    result = net_change(previous, changed, {"B"})
    assert result == run_mrp(changed)
    assert orders(result, "C") == [("3", d(10), d(10))]  # only D's order, released Tue 10


def test_diff_lists_added_removed_and_changed_orders_by_sku_and_date():
    before = run_mrp(BASE)
    after = run_mrp(
        replace(
            BASE,
            sales_orders=(
                SalesOrderLine("S1", 1, "A", q(6), d(10)),  # changed quantity
                SalesOrderLine("S4", 1, "A", q(1), d(16)),  # added
            ),  # S2 on D removed
        )
    )
    diff = diff_results(before, after)
    assert [po.id for po in diff.added] == ["A@2026-11-16#1", "B@2026-11-13#1", "C@2026-11-12#1"]
    assert [po.id for po in diff.removed] == ["C@2026-11-10#1", "D@2026-11-12#1"]
    assert [(c.after.id, c.quantity_delta) for c in diff.changed] == [
        ("A@2026-11-10#1", Decimal(1)),
        ("B@2026-11-09#1", Decimal(2)),
        ("C@2026-11-06#1", Decimal(2)),
    ]
