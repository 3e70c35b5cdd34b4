"""Rough-cut capacity: bill of resources from routings, load per work center and bucket."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.mrp.domain.rough_cut import PAST_DUE, Overload, RoutingOp, bill_of_resources, rough_cut


def qs(*values: int | str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


def test_bill_of_resources_spreads_setup_over_the_lot_and_divides_by_efficiency():
    ops = [
        RoutingOp("CUT", Decimal(30), Decimal(2)),
        RoutingOp("WELD", Decimal(60), Decimal(5)),
        RoutingOp("CUT", Decimal(0), Decimal(1)),
    ]
    bill = bill_of_resources(ops, Decimal(50), {"CUT": Decimal("0.8")})
    # CUT: (30/50 + 2)/0.8 + 1/0.8 = 3.25 + 1.25; WELD: 60/50 + 5 at efficiency 1
    assert bill == {"CUT": Decimal("4.5"), "WELD": Decimal("6.2")}
    assert bill_of_resources([RoutingOp("X", Decimal(10))], Decimal(3)) == {"X": Decimal("3.333333")}
    with pytest.raises(ValueError, match="lot_size"):
        bill_of_resources(ops, Decimal(0))


def test_rough_cut_loads_work_centers_with_lead_time_offsets_and_flags_overloads():
    bill = {"BIKE": {"CUT": Decimal("4.5"), "WELD": Decimal("6.2")}, "FRAME": {"CUT": Decimal(2)}}
    plan = {"BIKE": qs(100, 200, 0), "FRAME": qs(50, 0, 100), "PEDAL": qs(5, 0, 0)}
    capacity = {"CUT": qs(1000, 800, 500), "WELD": qs(700, 1000, 1000), "PAINT": qs(480, 480, 480)}
    result = rough_cut(bill, plan, capacity, offsets={"FRAME": 1})

    cut, weld, paint = (result.work_centers[wc] for wc in ("CUT", "WELD", "PAINT"))
    # FRAME loads one bucket early: its bucket-0 load (100 min) is past due, bucket 2 → bucket 1
    assert cut.load == qs(450, 1100, 0)
    assert cut.by_item == {"BIKE": qs(450, 900, 0), "FRAME": qs(0, 200, 0)}
    assert cut.past_due == 100
    assert cut.total_load == 1650
    assert cut.utilisation == (Decimal("0.45"), Decimal("1.375"), Decimal(0))
    assert cut.overloaded == (1,)
    assert weld.load == qs(620, 1240, 0)
    assert weld.utilisation == (Decimal("0.8857"), Decimal("1.24"), Decimal(0))
    assert paint.load == qs(0, 0, 0)
    assert result.overloads == (
        Overload("CUT", PAST_DUE, Decimal(100), Decimal(0)),
        Overload("CUT", 1, Decimal(1100), Decimal(800)),
        Overload("WELD", 1, Decimal(1240), Decimal(1000)),
    )
    assert result.overloads[1].excess == 300
    assert result.items_without_bill == ("PEDAL",)


def test_a_work_center_without_capacity_is_overloaded_by_any_load():
    result = rough_cut({"A": {"LATHE": Decimal(3)}}, {"A": qs(0, 2)}, {})
    lathe = result.work_centers["LATHE"]
    assert lathe.capacity == qs(0, 0)
    assert lathe.utilisation == (None, None)
    assert lathe.overloaded == (1,)


def test_rejects_plans_and_capacities_of_different_lengths():
    with pytest.raises(ValueError, match="same number of buckets"):
        rough_cut({}, {"A": qs(1, 2)}, {"W": qs(1)})
