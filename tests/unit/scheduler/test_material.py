"""The material date of a plant schedule's orders: reservations, free stock, open supply, shortages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.scheduler.domain.calendar import WorkCalendar
from services.scheduler.domain.material import (
    MaterialOrder,
    Supply,
    as_record,
    bom_requirements,
    plan_material,
)
from services.scheduler.domain.plant import PlantData, PlantOrder, RoutingOperation, WorkCenter, build

NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday
D = Decimal


def day(n: int) -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=n)


def order(
    oid: str, needs: dict[str, int], *, release: int = 0, due: int = 10, weight: int = 1, **kw: object
) -> MaterialOrder:
    return MaterialOrder(
        oid,
        release=day(release),
        due=day(due),
        weight=weight,
        requirements={s: D(q) for s, q in needs.items()},
        **kw,  # type: ignore[arg-type]
    )


def test_stock_on_hand_covers_now_and_a_purchase_order_sets_the_date_of_the_rest() -> None:
    plan = plan_material(
        [order("MO1", {"RM": 10})],
        {"RM": D(4)},
        [Supply("PO1", "purchase_order", "RM", D(20), day(5))],
        now=NOW,
    )
    m = plan["MO1"]
    assert (m.available_at, m.source, m.ref, m.sku, m.shortage) == (
        day(5),
        "purchase_order",
        "PO1",
        "RM",
        None,
    )
    (c,) = m.components
    assert [(d.source, d.qty) for d in c.draws] == [("stock", 4), ("purchase_order", 6)]


def test_what_is_reserved_for_the_order_counts_first_and_enough_stock_means_now() -> None:
    plan = plan_material(
        [order("MO1", {"RM": 10, "BOLT": 4}, reserved={"RM": D(10)})], {"BOLT": D(9)}, [], now=NOW
    )
    m = plan["MO1"]
    assert (m.available_at, m.source) == (NOW, "stock")
    assert {c.sku: [d.source for d in c.draws] for c in m.components} == {
        "BOLT": ["stock"],
        "RM": ["reservation"],
    }


def test_the_latest_component_sets_the_date_and_supply_is_taken_earliest_first() -> None:
    plan = plan_material(
        [order("MO1", {"A": 5, "B": 5})],
        {},
        [
            Supply("PO-late", "purchase_order", "A", D(5), day(9)),
            Supply("PO-early", "purchase_order", "A", D(5), day(3)),
            Supply("MO-B", "manufacturing_order", "B", D(5), day(7)),
        ],
        now=NOW,
    )
    m = plan["MO1"]
    assert (m.available_at, m.source, m.ref, m.sku) == (day(7), "manufacturing_order", "MO-B", "B")
    assert {c.sku: c.available_at for c in m.components} == {"A": day(3), "B": day(7)}


def test_orders_share_stock_and_supply_in_release_then_due_order() -> None:
    orders = [order("LATE", {"RM": 6}, release=1), order("EARLY", {"RM": 6}, release=0)]
    plan = plan_material(orders, {"RM": D(6)}, [Supply("PO1", "purchase_order", "RM", D(6), day(4))], now=NOW)
    assert (plan["EARLY"].available_at, plan["EARLY"].source) == (NOW, "stock")
    assert (plan["LATE"].available_at, plan["LATE"].ref) == (day(4), "PO1")


def test_a_shortage_is_explained_and_leaves_the_stock_to_orders_that_can_run() -> None:
    # FIRST comes first but needs 10 with only 6 anywhere: it is short; SECOND then gets the stock.
    orders = [order("FIRST", {"RM": 10}, release=0), order("SECOND", {"RM": 6}, release=1)]
    plan = plan_material(orders, {"RM": D(6)}, [], now=NOW)
    short = plan["FIRST"]
    assert (short.source, short.available_at, short.sku) == ("shortage", None, "RM")
    assert short.shortage == "material shortage: RM short 4 of 10 (no stock or open supply covers it)"
    assert (plan["SECOND"].source, plan["SECOND"].available_at) == ("stock", NOW)
    assert as_record(short)["components"][0]["short"] == 4.0  # type: ignore[index]


def test_an_overdue_supply_counts_from_now_and_is_flagged() -> None:
    plan = plan_material(
        [order("MO1", {"RM": 3})], {}, [Supply("PO1", "purchase_order", "RM", D(3), day(-2))], now=NOW
    )
    (c,) = plan["MO1"].components
    assert (plan["MO1"].available_at, c.draws[0].overdue) == (NOW, True)


def test_a_started_order_is_not_held_back_and_an_order_without_components_waits_for_nothing() -> None:
    plan = plan_material([order("GO", {"RM": 5}, started=True), order("BARE", {})], {}, [], now=NOW)
    assert (plan["GO"].source, plan["GO"].available_at, plan["GO"].shortage) == ("started", None, None)
    assert plan["GO"].components[0].short == 5
    assert (plan["BARE"].source, plan["BARE"].available_at) == ("no_components", None)


def test_bom_requirements_apply_scrap_and_effectivity() -> None:
    bom = {
        "lines": [
            {"component": "A", "qty_per": 2, "scrap_pct": 20},
            {"component": "B", "qty_per": 1, "valid_from": "2026-04-01"},
            {"component": "C", "qty_per": 3, "valid_to": "2026-03-02"},
        ]
    }
    assert bom_requirements(bom, D(8), date(2026, 3, 2)) == {"A": D(20)}


def test_the_material_date_holds_back_the_first_operation_and_a_blocked_order_is_skipped() -> None:
    cal = WorkCalendar.from_record(
        {
            "code": "all",
            "weekdays": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        }
    )
    data = PlantData(
        orders=(
            PlantOrder("MO1", "P", D(1), day(0), day(20), material_available=day(5)),
            PlantOrder("MO2", "P", D(1), day(0), day(20), blocked="material shortage: RM short 1 of 1"),
        ),
        routings={"P": (RoutingOperation(10, "WC", D(0), D(30)),)},
        work_centers={"WC": WorkCenter("WC", ("M1",), "all")},
        calendars={"all": cal},
    )
    pp = build(data, now=NOW, horizon_days=14)
    assert [j.id for j in pp.problem.jobs] == ["MO1"]
    assert pp.releases["MO1"] == pp.minute(day(5))
    assert [(s.order, s.reason) for s in pp.skipped] == [("MO2", "material shortage: RM short 1 of 1")]


def test_a_stored_snapshot_gives_the_same_material_dates_and_skips_the_short_order() -> None:
    from services.scheduler.schedules import build_problem, material_plan

    routing = {"sku": "P", "operations": [{"seq": 10, "work_center": "WC", "run_minutes_per_unit": 30}]}
    snap = {
        "as_of": NOW.isoformat(),
        "frozen_until": None,
        "orders": [
            {
                "id": "MO1",
                "sku": "P",
                "quantity": "2",
                "release_date": "2026-03-02",
                "due_date": "2026-03-20",
                "components": [{"sku": "RM", "qty": "4"}],
            },
            # No components from mrp: its BOM says 3 × 2 RM, more than what is left after MO1.
            {
                "id": "MO2",
                "sku": "P",
                "quantity": "3",
                "release_date": "2026-03-03",
                "due_date": "2026-03-20",
            },
        ],
        "items": {"P": {"family": None}},
        "routings": {"P": routing},
        "boms": {"P": {"lines": [{"component": "RM", "qty_per": 2}]}},
        "work_centers": {"WC": {"machines": [{"code": "M1"}], "calendar": "all"}},
        "calendars": {
            "all": {"weekdays": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
        },
        "setup_matrices": {},
        "downtimes": [],
        "frozen": [],
        "material": {
            "reserved": {"MO1": {"RM": "1"}},
            "stock": {"RM": "1"},
            "supplies": [
                {"ref": "PO1", "kind": "purchase_order", "sku": "RM", "qty": "2", "due_date": "2026-03-05"}
            ],
        },
    }
    plan = material_plan(snap)
    assert plan is not None
    assert (plan["MO1"].source, plan["MO1"].ref, plan["MO1"].available_at) == (
        "purchase_order",
        "PO1",
        day(3),
    )
    assert plan["MO2"].shortage == "material shortage: RM short 6 of 6 (no stock or open supply covers it)"
    pp = build_problem(snap, ["weighted_tardiness"], 14)
    assert [j.id for j in pp.problem.jobs] == ["MO1"]
    assert pp.releases["MO1"] == pp.minute(day(3))
    assert [s.order for s in pp.skipped] == ["MO2"]
    assert material_plan({**snap, "material": None}) is None  # inline orders: not checked
