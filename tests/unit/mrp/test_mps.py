"""MPS (PDP): time fences, PAB, lot sizing, discrete / cumulative ATP and promising."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import LotRule, LotSizing
from services.mrp.domain.mps import (
    MpsException,
    MpsExceptionKind,
    MpsInput,
    Zone,
    orders_by_week,
    plan_mps,
    promise,
)

MONDAY = date(2026, 11, 2)
WEEKS = [MONDAY + timedelta(weeks=i) for i in range(8)]


def qs(*values: int | str) -> list[Decimal]:
    return [Decimal(v) for v in values]


def textbook(**changes: object) -> MpsInput:
    """On hand 45, lot 50, SS 0, DTF 2, PTF 4, firm MPS of 50 in weeks 2 and 4."""
    fields: dict[str, object] = {
        "weeks": WEEKS,
        "forecast": qs(30, 30, 40, 30, 35, 35, 35, 35),
        "orders": qs(32, 25, 20, 12, 60, 10, 5, 0),
        "on_hand": Decimal(45),
        "lot": LotSizing(LotRule.FIXED, quantity=Decimal(50)),
        "firm": qs(0, 50, 0, 50, 0, 0, 0, 0),
        "dtf": 2,
        "ptf": 4,
        "sku": "BIKE",
    }
    fields.update(changes)
    return MpsInput(**fields)  # type: ignore[arg-type]


def test_textbook_record_with_dtf_2_ptf_4_and_lot_50():
    plan = plan_mps(textbook())
    table = [
        (r.zone, r.demand, r.pab, r.firm_mps, r.planned_mps, r.atp, r.cumulative_atp) for r in plan.weeks
    ]
    n = None
    assert table == [
        # demand = orders inside the DTF, max(forecast, orders) after it
        (Zone.FROZEN, 32, 13, 0, 0, 13, 13),  # ATP = 45 + 0 − 32
        (Zone.FROZEN, 25, 38, 50, 0, 5, 18),  # ATP = 50 − (25 + 20)
        (Zone.SLUSHY, 40, -2, 0, 0, n, 18),  # frozen to firm receipts: shortage flagged, no MPS
        (Zone.SLUSHY, 30, 18, 50, 0, 28, 46),  # 50 − 12 = 38, minus the −10 netted back from week 5
        (Zone.LIQUID, 60, 8, 0, 50, 0, 46),  # 50 − 60 = −10 → 0
        (Zone.LIQUID, 35, 23, 0, 50, 40, 86),  # 50 − 10
        (Zone.LIQUID, 35, 38, 0, 50, 45, 131),  # 50 − (5 + 0)
        (Zone.LIQUID, 35, 3, 0, 0, n, 131),
    ]
    assert plan.exceptions == (
        MpsException(WEEKS[0], MpsExceptionKind.ORDERS_OVER_FORECAST, Decimal(2)),
        MpsException(WEEKS[2], MpsExceptionKind.SHORTAGE_INSIDE_PTF, Decimal(2)),
        MpsException(WEEKS[4], MpsExceptionKind.ORDERS_OVER_FORECAST, Decimal(25)),
    )
    assert str(plan.weeks[4].planned_mps) == "50"


def test_promise_finds_the_earliest_week_with_enough_cumulative_atp():
    rows = plan_mps(textbook()).weeks
    assert promise(rows, Decimal(10), WEEKS[0]) == WEEKS[0]
    assert promise(rows, Decimal(20), WEEKS[0]) == WEEKS[3]  # 13, 18, 18 are too short
    assert promise(rows, Decimal(20), WEEKS[5] + timedelta(days=3)) == WEEKS[5]  # a Thursday
    assert promise(rows, Decimal(100), date(2026, 1, 1)) == WEEKS[6]
    assert promise(rows, Decimal(132), WEEKS[0]) is None


def test_negative_atp_nets_back_through_several_mps_weeks_and_flags_the_first_week():
    plan = plan_mps(
        MpsInput(
            weeks=WEEKS[:4],
            forecast=qs(0, 0, 0, 0),
            orders=qs(10, 20, 30, 70),
            on_hand=Decimal(15),
            firm=qs(0, 30, 0, 40),
            ptf=4,
        )
    )
    # raw ATP: 15 − 10 = 5; 30 − (20 + 30) = −20; 40 − 70 = −30 → −20 − 30 = −50 → 5 − 50 = −45
    assert [r.atp for r in plan.weeks] == [-45, 0, None, 0]
    assert [r.cumulative_atp for r in plan.weeks] == [-45, -45, -45, -45]
    assert MpsException(WEEKS[0], MpsExceptionKind.ATP_NEGATIVE, Decimal(45)) in plan.exceptions
    assert promise(plan.weeks, Decimal(1), WEEKS[0]) is None


def test_safety_stock_min_and_multiple_size_the_planned_mps_after_the_ptf():
    plan = plan_mps(
        MpsInput(
            weeks=WEEKS[:3],
            forecast=qs(20, 20, 100),
            orders=qs(0, 0, 0),
            on_hand=Decimal(30),
            safety_stock=Decimal(10),
            lot=LotSizing(min_qty=Decimal(25), multiple=Decimal(10)),
            ptf=1,
        )
    )
    # w0 frozen: 30 − 20 = 10; w1: 10 − 20 = −10 → short 20 → min 25 → multiple 30 → 20;
    # w2: 20 − 100 = −80 → short 90 → 90 → 10
    assert [(r.pab, r.planned_mps) for r in plan.weeks] == [(10, 0), (20, 30), (10, 90)]
    assert plan.exceptions == ()


def test_without_time_fences_demand_is_the_larger_of_forecast_and_orders_everywhere():
    plan = plan_mps(MpsInput(weeks=WEEKS[:2], forecast=qs(10, 10), orders=qs(4, 12), on_hand=Decimal(0)))
    assert [(r.demand, r.planned_mps, r.pab) for r in plan.weeks] == [(10, 10, 0), (12, 12, 0)]


def test_orders_fall_in_the_week_of_their_previous_working_day():
    holiday_monday = WEEKS[2]
    calendar = Calendar(holidays=frozenset({holiday_monday}))
    orders = [
        (date(2026, 10, 20), Decimal(1)),  # late: first week
        (date(2026, 11, 8), Decimal(2)),  # Sunday → Friday 6th: week 0
        (date(2026, 11, 9), Decimal(4)),  # Monday: week 1
        (holiday_monday, Decimal(8)),  # holiday Monday → Friday 13th: week 1
        (date(2026, 11, 18), Decimal(16)),  # Wednesday: week 2
        (date(2026, 11, 29), Decimal(32)),  # Sunday after the last week → Friday 27th: week 3
        (date(2026, 11, 30), Decimal(64)),  # beyond the horizon: ignored
    ]
    assert orders_by_week(WEEKS[:4], orders, calendar) == qs(3, 12, 16, 32)


def test_rejects_weeks_that_are_not_consecutive_mondays_and_period_lot_sizing():
    with pytest.raises(ValueError, match="not a Monday"):
        orders_by_week([date(2026, 11, 3)], [])
    with pytest.raises(ValueError, match="consecutive"):
        plan_mps(MpsInput(weeks=[WEEKS[0], WEEKS[2]], forecast=qs(1, 1), orders=qs(0, 0), on_hand=Decimal(0)))
    with pytest.raises(ValueError, match="lot_for_lot or fixed"):
        plan_mps(textbook(lot=LotSizing(LotRule.PERIOD, periods=2)))


QTY = st.integers(0, 80).map(Decimal)


@st.composite
def mps_inputs(draw: st.DrawFn) -> MpsInput:
    n = draw(st.integers(1, 10))
    ptf = draw(st.integers(0, n))
    return MpsInput(
        weeks=WEEKS[:1] + [WEEKS[0] + timedelta(weeks=i) for i in range(1, n)],
        forecast=draw(st.lists(QTY, min_size=n, max_size=n)),
        orders=draw(st.lists(QTY, min_size=n, max_size=n)),
        on_hand=draw(QTY),
        safety_stock=draw(st.integers(0, 20).map(Decimal)),
        lot=draw(
            st.sampled_from(
                [LotSizing(), LotSizing(LotRule.FIXED, quantity=Decimal(50)), LotSizing(min_qty=Decimal(30))]
            )
        ),
        firm=draw(st.lists(st.sampled_from(qs(0, 0, 40)), min_size=n, max_size=n)),
        dtf=draw(st.integers(0, ptf)),
        ptf=ptf,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mps_inputs())
def test_pab_after_the_ptf_never_falls_below_safety_stock_and_atp_balances(inp: MpsInput):
    plan = plan_mps(inp)
    for w, row in enumerate(plan.weeks):
        if w >= inp.ptf:
            assert row.pab >= inp.safety_stock
        else:
            assert row.planned_mps == 0
        if w > 0 and row.atp is not None:
            assert row.atp >= 0
    # the discrete ATP shares out exactly what the schedule makes available to orders
    total = inp.on_hand + sum(r.mps for r in plan.weeks) - sum(inp.orders)
    assert plan.weeks[-1].cumulative_atp == total
