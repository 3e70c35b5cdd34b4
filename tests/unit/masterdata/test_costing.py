from datetime import date

from services.masterdata.domain.bom import BomGraph
from services.masterdata.domain.costing import CostBreakdown, costing_lot_size, purchase_price, roll_up_costs
from services.masterdata.domain.model import (
    LotSizing,
    LotSizingRule,
    Supplier,
    SupplierItem,
    UnitConversion,
    UnitConverter,
)
from tests.unit.masterdata.factories import D, buy, line, make, op, routing, work_center

AT = date(2026, 3, 1)


def costed() -> dict[str, CostBreakdown]:
    """BIKE (assembly, fixed lots of 50) = FRAME + 36 SPOKE @ 10 % scrap; FRAME (welded, min lot
    20) = 2 kg TUBE @ 20 % scrap. TUBE has a standard cost of 4.00; SPOKE is priced by two
    suppliers, the preferred one per box of 12."""
    items = {
        "BIKE": make("BIKE", lot_sizing=LotSizing(LotSizingRule.FIXED, quantity=D(50))),
        "FRAME": make("FRAME", lot_sizing=LotSizing(min_qty=D(20))),
        "TUBE": buy("TUBE", uom="KG", standard_cost=D("4.00")),
        "SPOKE": buy("SPOKE"),
    }
    lines = [
        line("BIKE", "FRAME"),
        line("BIKE", "SPOKE", "36", scrap="10"),
        line("FRAME", "TUBE", "2", scrap="20"),
        line("FRAME", "TUBE", "9", until=date(2026, 1, 1)),  # an old version, not valid at AT
    ]
    suppliers = [
        Supplier("FAR", items=(SupplierItem("SPOKE", price=D("0.10"), priority=2),)),
        Supplier("NEAR", items=(SupplierItem("SPOKE", price=D("1.08"), priority=1, uom="BOX"),)),
    ]
    converter = UnitConverter([UnitConversion("BOX", "EA", D(12), sku="SPOKE")])
    return roll_up_costs(
        BomGraph(items.values(), lines, converter),
        items,
        {
            "FRAME": routing("FRAME", op(10, "WELD", setup="30", run="12")),
            "BIKE": routing("BIKE", op(10, "ASSY", setup="90", run="20")),
        },
        {"WELD": work_center("WELD", efficiency="0.8", cost="60"), "ASSY": work_center("ASSY", cost="45")},
        at=AT,
        suppliers=suppliers,
        converter=converter,
    )


def test_buy_items_cost_their_standard_cost_else_the_preferred_suppliers_price_per_unit() -> None:
    costs = costed()
    assert (costs["TUBE"].total, costs["TUBE"].source) == (D("4.00"), "standard_cost")
    assert (costs["SPOKE"].total, costs["SPOKE"].source) == (D("0.09"), "supplier:NEAR")  # 1.08 / 12


def test_make_item_adds_material_with_scrap_run_and_setup_spread_over_the_lot() -> None:
    frame = costed()["FRAME"]
    # material 2 / 0.8 × 4.00 = 10.00; run 12 min / 0.8 × 60/h = 15.00; setup 30 / 20 / 0.8 × 1/min = 1.875
    assert (frame.material, frame.run, frame.setup, frame.total) == (D(10), D(15), D("1.875"), D("26.875"))
    assert frame.lot_size == D(20)


def test_roll_up_breaks_the_total_down_by_kind_and_by_level() -> None:
    bike = costed()["BIKE"]
    # material: FRAME 26.875 + 36 / 0.9 × 0.09 = 3.60; run 20 × 0.75 = 15.00; setup 90 / 50 × 0.75 = 1.35
    assert (bike.material, bike.run, bike.setup) == (D("30.475"), D(15), D("1.35"))
    assert bike.total == D("46.825")
    assert bike.total.quantize(D("0.01")) == D("46.82")  # banker's rounding of the exact half cent
    assert (bike.purchased, bike.rolled_run, bike.rolled_setup) == (D("13.60"), D(30), D("3.225"))
    # level 0: BIKE's own 16.35; level 1: FRAME's operations 16.875 + SPOKE 3.60; level 2: TUBE 10.00
    assert bike.per_level == (D("16.35"), D("20.475"), D(10))


def test_costing_lot_is_the_lot_quantity_else_the_minimum_else_one() -> None:
    assert costing_lot_size(
        make("A", lot_sizing=LotSizing(LotSizingRule.FIXED, quantity=D(40), min_qty=D(5)))
    ) == D(40)
    assert costing_lot_size(make("A", lot_sizing=LotSizing(min_qty=D(5)))) == D(5)
    assert costing_lot_size(make("A")) == D(1)


def test_a_buy_item_without_cost_or_supplier_is_marked_missing() -> None:
    item = buy("NUT")
    assert purchase_price(item, []) is None
    costs = roll_up_costs(BomGraph([item]), {"NUT": item}, {}, {}, at=AT)
    assert (costs["NUT"].total, costs["NUT"].source) == (D(0), "missing")


def test_roll_up_can_be_limited_to_one_item_and_its_components() -> None:
    items = {"A": make("A"), "B": buy("B", standard_cost=D(2)), "C": buy("C", standard_cost=D(3))}
    graph = BomGraph(items.values(), [line("A", "B", "3")])
    costs = roll_up_costs(graph, items, {}, {}, at=AT, only=["A"])
    assert set(costs) == {"A", "B"}
    assert costs["A"].total == D(6)
