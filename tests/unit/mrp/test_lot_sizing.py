from decimal import Decimal

import pytest

from services.mrp.domain.lot_sizing import LotPolicy, eoq_quantity, size_lot
from services.mrp.domain.model import LotRule, LotSizing, to_micro

M = 1_000_000  # micro-units per unit


def policy(rule: LotRule = LotRule.LOT_FOR_LOT, **kwargs: object) -> LotPolicy:
    fields = {k: Decimal(str(v)) if k != "periods" else v for k, v in kwargs.items()}
    return LotPolicy.from_lot_sizing(LotSizing(rule, **fields))  # type: ignore[arg-type]


def units(quantities: list[int]) -> list[Decimal]:
    return [Decimal(x) / M for x in quantities]


def test_lot_for_lot_orders_exactly_the_shortage():
    assert units(size_lot(policy(), to_micro(Decimal("7.25")))) == [Decimal("7.25")]


def test_fixed_orders_a_whole_number_of_lots():
    assert units(size_lot(policy(LotRule.FIXED, quantity=50), 120 * M)) == [150]
    assert units(size_lot(policy(LotRule.FIXED, quantity=50), 50 * M)) == [50]


def test_period_orders_the_largest_shortage_of_the_window():
    assert units(size_lot(policy(LotRule.PERIOD, periods=3), 10 * M, 25 * M)) == [25]


def test_min_qty_raises_a_small_order():
    assert units(size_lot(policy(min_qty=20), 7 * M)) == [20]


def test_multiple_rounds_up_after_the_minimum():
    # 7 -> min 20 -> multiple of 6: 24
    assert units(size_lot(policy(min_qty=20, multiple=6), 7 * M)) == [24]


def test_max_splits_into_full_orders_and_a_rest_raised_to_min_then_multiple():
    # 130 -> multiple of 6: 132 > 50 -> 50, 50 and a rest of 32 -> min 20 keeps 32 -> 36
    assert units(size_lot(policy(min_qty=20, max_qty=50, multiple=6), 130 * M)) == [50, 50, 36]


def test_max_split_rest_below_min_is_raised_to_min():
    # 105 -> 50, 50, rest 5 -> min 20
    assert units(size_lot(policy(min_qty=20, max_qty=50), 105 * M)) == [50, 50, 20]


def test_max_split_without_rest_gives_only_full_orders():
    assert units(size_lot(policy(max_qty=50), 100 * M)) == [50, 50]


def test_fixed_then_max_split():
    # fixed 40: 90 -> 120 > 50 -> 50, 50, 20
    assert units(size_lot(policy(LotRule.FIXED, quantity=40, max_qty=50), 90 * M)) == [50, 50, 20]


def test_eoq_is_the_square_root_formula_on_annualised_gross():
    # gross 200 over 73 days = 1000 a year; sqrt(2 x 1000 x 100 / (0.25 x 20)) = sqrt(40000) = 200
    assert eoq_quantity(200 * M, 73, Decimal(100), Decimal("0.25"), Decimal(20)) == 200 * M


def test_eoq_is_rounded_half_up_to_six_decimals():
    # sqrt(2 x 1000 x 100 / (0.25 x 8)) = sqrt(100000) = 316.2277660168...
    assert eoq_quantity(1000 * M, 365, Decimal(100), Decimal("0.25"), Decimal(8)) == 316_227_766


def test_eoq_without_cost_or_demand_is_zero_and_falls_back_to_lot_for_lot():
    assert eoq_quantity(1000 * M, 365, Decimal(100), Decimal("0.25"), Decimal(0)) == 0
    assert eoq_quantity(0, 365, Decimal(100), Decimal("0.25"), Decimal(8)) == 0
    assert units(size_lot(policy(LotRule.EOQ), 7 * M)) == [7]


def test_fixed_without_quantity_is_refused():
    with pytest.raises(ValueError, match="quantity > 0"):
        policy(LotRule.FIXED)


def test_period_without_periods_is_refused():
    with pytest.raises(ValueError, match="periods"):
        policy(LotRule.PERIOD)


def test_a_quantity_with_more_than_six_decimals_is_refused():
    with pytest.raises(ValueError, match="6 decimal"):
        to_micro(Decimal("1.0000001"))
