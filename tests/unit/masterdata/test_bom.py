from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.masterdata.domain import bom as bom_module
from services.masterdata.domain.bom import BomCycleError, BomGraph, find_cycle
from services.masterdata.domain.model import BomLine, UnitConversion, UnitConverter
from tests.unit.masterdata.factories import D, buy, line, make

SWITCH = date(2026, 1, 1)  # FRAME's tube quantity changes on this day


def bike_graph() -> BomGraph:
    """BIKE ← FRAME ← TUBE (2 @ 20 % scrap from SWITCH, 3 before), BIKE ← WHEEL ← SPOKE (36 @ 10 %),
    BIKE ← TUBE (0.5 @ 20 %); lead times BIKE 2, FRAME 5, WHEEL 3, TUBE 10 (buy), SPOKE 4 (buy)."""
    items = [make("BIKE", lead=2), make("FRAME", lead=5), make("WHEEL", lead=3), buy("TUBE", lead=10)]
    items.append(buy("SPOKE", lead=4))
    lines = [
        line("BIKE", "FRAME"),
        line("BIKE", "WHEEL", "2"),
        line("BIKE", "TUBE", "0.5", scrap="20"),
        line("FRAME", "TUBE", "3", until=SWITCH),
        line("FRAME", "TUBE", "2", scrap="20", since=SWITCH),
        line("WHEEL", "SPOKE", "36", scrap="10"),
    ]
    return BomGraph(items, lines)


def test_building_a_cyclic_bom_names_the_cycle_path() -> None:
    lines = [line("A", "B"), line("B", "C"), line("C", "A"), line("C", "D")]
    with pytest.raises(BomCycleError, match="BOM cycle: A → B → C → A"):
        BomGraph([make("A"), make("B"), make("C"), make("D")], lines)


def test_find_cycle_returns_none_for_a_dag_and_the_path_for_a_cycle() -> None:
    assert find_cycle([line("A", "B"), line("A", "C"), line("B", "C")]) is None
    assert find_cycle([line("X", "Y"), line("Y", "X")]) == ("X", "Y", "X")


def test_low_level_code_is_the_deepest_level_an_item_appears_at() -> None:
    graph = bike_graph()
    graph.set_item(buy("GREASE"))
    assert graph.low_level_codes() == {"BIKE": 0, "FRAME": 1, "WHEEL": 1, "TUBE": 2, "SPOKE": 2, "GREASE": 0}


def test_replacing_a_bom_updates_only_the_codes_that_move() -> None:
    graph = bike_graph()
    changed = graph.replace_lines("WHEEL", [line("WHEEL", "SPOKE", "36"), line("WHEEL", "FRAME")])
    assert changed == {"FRAME": (1, 2), "TUBE": (2, 3)}
    changed = graph.replace_lines("WHEEL", [line("WHEEL", "SPOKE", "36")])
    assert changed == {"FRAME": (2, 1), "TUBE": (3, 2)}


def test_a_change_moving_many_codes_switches_to_the_full_pass_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bom_module, "_BULK_MIN", 0)
    monkeypatch.setattr(bom_module, "_BULK_SHARE", 1_000_000)
    graph = bike_graph()
    changed = graph.replace_lines("WHEEL", [line("WHEEL", "SPOKE", "36"), line("WHEEL", "FRAME")])
    assert changed == {"FRAME": (1, 2), "TUBE": (2, 3)}
    assert graph.low_level_codes() == {"BIKE": 0, "FRAME": 2, "WHEEL": 1, "TUBE": 3, "SPOKE": 2}


def test_a_bom_change_closing_a_cycle_is_refused_and_leaves_the_graph_unchanged() -> None:
    graph = bike_graph()
    before = graph.low_level_codes()
    with pytest.raises(BomCycleError, match="BOM cycle: SPOKE → BIKE → WHEEL → SPOKE"):
        graph.replace_lines("SPOKE", [line("SPOKE", "BIKE")])
    with pytest.raises(BomCycleError, match="BOM cycle: SPOKE → SPOKE"):
        graph.replace_lines("SPOKE", [line("SPOKE", "SPOKE")])
    assert graph.low_level_codes() == before
    assert graph.line_count == 6


def test_explosion_cumulates_quantities_with_scrap_along_each_path() -> None:
    explosion = bike_graph().explode("BIKE", date(2026, 3, 1), D(10))
    assert [(x.level, x.path, x.qty_per, x.quantity, x.low_level_code) for x in explosion.lines] == [
        (0, ("BIKE",), D(1), D(10), 0),
        (1, ("BIKE", "FRAME"), D(1), D(10), 1),
        (2, ("BIKE", "FRAME", "TUBE"), D("2.5"), D(25), 2),  # 2 / 0.8
        (1, ("BIKE", "WHEEL"), D(2), D(20), 1),
        (2, ("BIKE", "WHEEL", "SPOKE"), D(40), D(800), 2),  # 36 / 0.9
        (1, ("BIKE", "TUBE"), D("0.625"), D("6.25"), 2),  # 0.5 / 0.8
    ]
    assert explosion.totals == {"FRAME": D(10), "TUBE": D("31.25"), "WHEEL": D(20), "SPOKE": D(800)}


def test_explosion_uses_the_lines_valid_on_the_day_with_an_exclusive_end() -> None:
    graph = bike_graph()
    assert graph.explode("BIKE", date(2025, 12, 31), D(10)).totals["TUBE"] == D("36.25")  # 30 + 6.25
    assert graph.explode("BIKE", SWITCH, D(10)).totals["TUBE"] == D("31.25")  # 25 + 6.25


def test_explosion_converts_a_line_unit_to_the_components_unit() -> None:
    items = [make("CAKE"), buy("FLOUR", uom="KG")]
    graph = BomGraph(
        items, [line("CAKE", "FLOUR", "250", uom="G")], UnitConverter([UnitConversion("KG", "G", D(1000))])
    )
    assert graph.explode("CAKE", SWITCH, D(4)).totals == {"FLOUR": D(1)}


def test_where_used_lists_direct_parents_with_their_quantity() -> None:
    used = bike_graph().where_used("TUBE", date(2026, 3, 1))
    assert [(w.sku, w.qty_per, w.end_item) for w in used] == [
        ("BIKE", D("0.625"), True),
        ("FRAME", D("2.5"), False),
    ]


def test_multilevel_where_used_climbs_every_path_to_the_end_items() -> None:
    graph = bike_graph()
    used = graph.where_used_multilevel("TUBE", date(2026, 3, 1))
    assert [(w.level, w.path, w.quantity, w.end_item) for w in used] == [
        (1, ("TUBE", "BIKE"), D("0.625"), True),
        (1, ("TUBE", "FRAME"), D("2.5"), False),
        (2, ("TUBE", "FRAME", "BIKE"), D("2.5"), True),
    ]
    assert graph.end_items("SPOKE") == ["BIKE"]


def test_cumulative_lead_time_follows_the_longest_chain_through_make_items() -> None:
    graph = bike_graph()
    graph.set_item(buy("TUBE", lead=10))
    graph.replace_lines("TUBE", [line("TUBE", "ORE")])  # a buy item's own BOM does not count
    graph.set_item(buy("ORE", lead=50))
    clt = graph.cumulative_lead_time("BIKE")
    assert (clt.days, clt.critical_path) == (17, ("BIKE", "FRAME", "TUBE"))  # 2 + 5 + 10
    assert graph.cumulative_lead_times() == {
        "BIKE": 17,
        "FRAME": 15,
        "WHEEL": 7,
        "TUBE": 10,
        "SPOKE": 4,
        "ORE": 50,
    }


def test_cumulative_lead_time_at_a_date_ignores_lines_not_yet_valid() -> None:
    graph = BomGraph(
        [make("A", lead=1), buy("OLD", lead=3), buy("NEW", lead=9)],
        [line("A", "OLD", until=SWITCH), line("A", "NEW", since=SWITCH)],
    )
    assert graph.cumulative_lead_time("A", date(2025, 6, 1)).days == 4
    assert graph.cumulative_lead_times(date(2026, 6, 1))["A"] == 10


# -- incremental low-level codes equal a full recomputation -------------------------------------

N = 12


@st.composite
def dag_and_changes(draw: st.DrawFn) -> tuple[list[BomLine], list[tuple[str, list[str]]]]:
    """A random DAG over N items (lines only from lower to higher index) and random BOM changes
    (any parent, any components: some close cycles)."""
    pairs = draw(st.lists(st.tuples(st.integers(0, N - 2), st.integers(1, N - 1)), max_size=30))
    lines = [line(f"I{a}", f"I{b}") for a, b in pairs if a < b]
    changes = draw(
        st.lists(
            st.tuples(st.integers(0, N - 1), st.lists(st.integers(0, N - 1), max_size=4)),
            max_size=8,
        )
    )
    return lines, [(f"I{p}", [f"I{c}" for c in cs]) for p, cs in changes]


@settings(max_examples=150, deadline=None)
@given(dag_and_changes())
def test_incremental_low_level_codes_equal_a_full_recomputation(
    case: tuple[list[BomLine], list[tuple[str, list[str]]]],
) -> None:
    lines, changes = case
    items = [make(f"I{i}") for i in range(N)]
    graph = BomGraph(items, lines)
    current = {f"I{i}": [ln for ln in lines if ln.parent == f"I{i}"] for i in range(N)}
    for parent, components in changes:
        new_lines = [line(parent, c) for c in components]
        proposal = {**current, parent: new_lines}
        expected_cycle = find_cycle([ln for lns in proposal.values() for ln in lns])
        before = graph.low_level_codes()
        if expected_cycle is not None:
            with pytest.raises(BomCycleError) as err:
                graph.replace_lines(parent, new_lines)
            path = err.value.path
            assert path[0] == path[-1] == parent
            assert all(any(ln.component == b for ln in proposal[a]) for a, b in pairwise(path))
            assert graph.low_level_codes() == before
            continue
        changed = graph.replace_lines(parent, new_lines)
        current = proposal
        full = BomGraph(items, [ln for lns in current.values() for ln in lns]).low_level_codes()
        assert graph.low_level_codes() == full
        assert changed == {s: (before[s], full[s]) for s in full if before[s] != full[s]}


def test_quantities_stay_decimals_without_float_noise() -> None:
    graph = BomGraph([make("A"), buy("B")], [BomLine("A", "B", Decimal("0.1"), Decimal("0"))])
    assert graph.explode("A", SWITCH, D(3)).totals["B"] == Decimal("0.3")
