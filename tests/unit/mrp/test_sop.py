"""S&OP (PIC) by family and month: level, chase and mixed strategies, backlog, costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.sop import (
    SopCosts,
    SopInput,
    SopMonthInput,
    Strategy,
    compare_strategies,
    plan_family,
    plan_sop,
    working_days_in_month,
)

DAYS = (20, 20, 22, 20, 22, 16)


def family(
    demand: tuple[int, ...],
    opening: int = 500,
    target: int | None = 300,
    days: tuple[int, ...] = DAYS,
    every_month: bool = False,
    capacity: tuple[int | None, ...] | None = None,
    initial_rate: int | None = None,
) -> SopInput:
    n = len(demand)
    months = [
        SopMonthInput(
            month=date(2027, i + 1, 1),
            demand=Decimal(demand[i]),
            working_days=days[i],
            target_stock=Decimal(target) if target is not None and (every_month or i == n - 1) else None,
            capacity=Decimal(capacity[i]) if capacity and capacity[i] is not None else None,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]
    rate = None if initial_rate is None else Decimal(initial_rate)
    return SopInput("BIKES", Decimal(opening), months, initial_rate=rate)


def column(plan: object, name: str) -> list[Decimal]:
    return [getattr(m, name) for m in plan.months]  # type: ignore[attr-defined]


def test_level_spreads_the_total_by_working_days_with_the_remainder_in_the_last_month():
    plan = plan_family(family((1000, 1200, 1400, 1600, 1200, 800)), "level")
    # total = 7200 + 300 − 500 = 7000 over 120 days: 58.33/day; 20 d → 1167, 22 d → 1283
    assert column(plan, "production") == [1167, 1167, 1283, 1167, 1283, 933]
    assert column(plan, "ending_stock") == [667, 634, 517, 84, 167, 300]
    assert column(plan, "backlog") == [0] * 6
    assert column(plan, "rate") == [
        Decimal(x) for x in ("58.35", "58.35", "58.318182", "58.35", "58.318182", "58.3125")
    ]
    assert column(plan, "change") == [0, 0, 116, -116, 116, -350]
    assert plan.totals.production == 7000
    assert plan.totals.stock_unit_months == 2369
    assert plan.totals.total_cost is None


def test_level_carries_unmet_demand_as_backlog_and_recovers_it():
    plan = plan_family(family((1000, 1200, 1400, 2000, 800, 800)), Strategy.LEVEL)
    assert column(plan, "production") == [1167, 1167, 1283, 1167, 1283, 933]
    assert column(plan, "ending_stock") == [667, 634, 517, 0, 167, 300]
    assert column(plan, "backlog") == [0, 0, 0, 316, 0, 0]
    assert plan.totals.max_backlog == 316
    assert plan.totals.backlog_unit_months == 316


def test_chase_makes_demand_plus_the_change_in_target_stock():
    plan = plan_family(family((1000, 1200, 1400, 1600, 1200, 800), every_month=True), "chase")
    assert column(plan, "production") == [800, 1200, 1400, 1600, 1200, 800]  # first: 1000 + 300 − 500
    assert column(plan, "ending_stock") == [300] * 6
    assert column(plan, "change") == [0, 400, 200, 200, -400, -400]
    assert plan.totals.production == 7000


def test_chase_never_produces_a_negative_quantity_and_keeps_the_stock_when_no_target_is_given():
    plan = plan_family(family((100, 300, 200), opening=400, target=None, days=(20, 20, 20)), "chase")
    # target = opening stock 400 throughout; first month: max(0, 100 + 400 − 400)
    assert column(plan, "production") == [100, 300, 200]
    plan = plan_family(
        family((100, 300, 200), opening=600, target=0, days=(20, 20, 20), every_month=True), "chase"
    )
    assert column(plan, "production") == [0, 0, 0]
    assert column(plan, "ending_stock") == [500, 200, 0]


def test_target_in_days_covers_the_next_months_demand_per_working_day():
    months = [
        SopMonthInput(date(2027, 1, 1), Decimal(1000), 20, target_days=Decimal(5)),
        SopMonthInput(date(2027, 2, 1), Decimal(1200), 20, target_days=Decimal(5)),
        SopMonthInput(date(2027, 3, 1), Decimal(800), 16, target_days=Decimal("2.5")),
    ]
    plan = plan_family(SopInput("F", Decimal(0), months), "chase")
    # 5 × 1200/20 = 300; 5 × 800/16 = 250; last month uses its own demand: 2.5 × 50 = 125
    assert column(plan, "target_stock") == [300, 250, 125]
    assert column(plan, "production") == [1300, 1150, 675]


def test_mixed_prebuilds_overflow_in_earlier_months_then_catches_up_then_backorders():
    demand, days = (400, 800, 600), (20, 20, 20)
    prebuilt = plan_family(family(demand, 0, 0, days, capacity=(700, 500, 700)), "mixed")
    assert column(prebuilt, "production") == [700, 500, 600]  # level 600, month 2 only 500
    assert column(prebuilt, "ending_stock") == [300, 0, 0]
    caught_up = plan_family(family(demand, 0, 0, days, capacity=(500, 700, 700)), "mixed")
    assert column(caught_up, "production") == [500, 700, 600]
    backordered = plan_family(family(demand, 0, 0, days, capacity=(500, 500, 700)), "mixed")
    assert column(backordered, "production") == [500, 500, 700]
    assert column(backordered, "backlog") == [0, 200, 100]
    assert backordered.totals.unmade == 100
    assert column(backordered, "utilisation") == [1, 1, 1]
    no_capacity = plan_family(family(demand, 0, 0, days), "mixed")
    assert column(no_capacity, "production") == [600, 600, 600]


def test_costs_compare_the_strategies():
    inp = family((400, 800, 600), opening=0, target=0, days=(20, 20, 20), every_month=True, initial_rate=20)
    costs = SopCosts(
        holding=Decimal(1), backlog=Decimal(5), rate_increase=Decimal(10), rate_decrease=Decimal(20)
    )
    plans = compare_strategies(inp, costs)
    level, chase = plans[Strategy.LEVEL], plans[Strategy.CHASE]
    assert column(level, "rate_change") == [10, 0, 0]
    assert (level.totals.holding_cost, level.totals.change_cost, level.totals.total_cost) == (200, 100, 300)
    assert column(chase, "rate_change") == [0, 20, -10]
    assert (chase.totals.holding_cost, chase.totals.change_cost, chase.totals.total_cost) == (0, 400, 400)
    assert plan_sop({"BIKES": inp}, "chase", costs)["BIKES"] == chase


def test_working_days_come_from_the_calendar():
    calendar = Calendar(holidays=frozenset({date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14)}))
    assert working_days_in_month(calendar, date(2026, 5, 1)) == 18
    assert working_days_in_month(Calendar(), date(2026, 12, 15)) == 23


def test_rejects_a_horizon_without_working_days_and_both_kinds_of_target():
    with pytest.raises(ValueError, match="no working day"):
        plan_family(family((10,), days=(0,)), "level")
    month = SopMonthInput(date(2027, 1, 1), Decimal(1), 20, target_stock=Decimal(1), target_days=Decimal(1))
    with pytest.raises(ValueError, match="not both"):
        plan_family(SopInput("F", Decimal(0), [month]), "chase")


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def families(draw: st.DrawFn) -> SopInput:
    n = draw(st.integers(2, 8))
    months = [
        SopMonthInput(
            month=date(2027, i + 1, 1),
            demand=Decimal(draw(st.integers(100, 2000))),
            working_days=draw(st.integers(15, 23)),
            target_stock=Decimal(draw(st.integers(0, 100))),
        )
        for i in range(n)
    ]
    return SopInput("F", Decimal(draw(st.integers(0, 100))), months)


@SETTINGS
@given(families())
def test_level_production_is_constant_per_working_day(inp: SopInput):
    plan = plan_family(inp, "level")
    total = sum(m.demand for m in inp.months) + inp.months[-1].target_stock - inp.opening_stock  # type: ignore[operator]
    rate = Fraction(total) / sum(m.working_days for m in inp.months)
    for month in plan.months[:-1]:
        assert abs(Fraction(month.production) - rate * month.working_days) <= Fraction(1, 2)
    assert plan.totals.production == total
    assert plan.months[-1].ending_stock == inp.months[-1].target_stock


@SETTINGS
@given(families())
def test_chase_production_sums_to_demand_plus_the_change_in_target_stock(inp: SopInput):
    plan = plan_family(inp, "chase")
    target_change = inp.months[-1].target_stock - inp.opening_stock  # type: ignore[operator]
    assert plan.totals.production == plan.totals.demand + target_change
    assert column(plan, "ending_stock") == [m.target_stock for m in inp.months]
    assert all(m.production >= 0 for m in plan.months)
