"""Shop-floor rules, pure: the confirmation state machine, costs, adherence and Pareto lists."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.scheduler.domain import shopfloor as sf


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def test_start_pause_resume_finish_adds_up_the_running_minutes_and_quantities() -> None:
    p = sf.apply(sf.OperationProgress(), "start", machine="M", at=t(8))
    p = sf.apply(p, "pause", machine="M", at=t(9), scrap_qty=Decimal(1))
    p = sf.apply(p, "resume", machine="M", at=t(9, 30))
    p = sf.apply(p, "finish", machine="M", at=t(10), good_qty=Decimal(9))
    assert (p.state, p.worked_minutes, p.good_qty, p.scrap_qty) == ("finished", Decimal(90), 9, 1)
    assert (p.started_at, p.finished_at) == (t(8), t(10))


@pytest.mark.parametrize(
    ("events", "field"),
    [
        (["finish"], "event"),
        (["start", "resume"], "event"),
        (["start", "finish", "start"], "event"),
    ],
)
def test_a_transition_the_state_does_not_allow_names_the_event(events: list[str], field: str) -> None:
    p = sf.OperationProgress()
    for e in events[:-1]:
        p = sf.apply(p, e, machine="M", at=t(8))
    with pytest.raises(sf.TransitionError) as err:
        sf.apply(p, events[-1], machine="M", at=t(8))
    assert err.value.field == field


def test_another_machine_or_an_earlier_time_is_refused() -> None:
    p = sf.apply(sf.OperationProgress(), "start", machine="M", at=t(8))
    with pytest.raises(sf.TransitionError) as err:
        sf.apply(p, "finish", machine="N", at=t(9))
    assert err.value.field == "machine"
    with pytest.raises(sf.TransitionError) as err:
        sf.apply(p, "finish", machine="M", at=t(7))
    assert err.value.field == "at"


def test_material_cost_uses_the_scrap_factor_and_labour_the_hourly_rate() -> None:
    material = sf.material_cost(
        [("A", Decimal(2), Decimal(20)), ("B", Decimal(1), Decimal(0))],
        Decimal(10),
        {"A": Decimal(4), "B": Decimal(1)},
    )
    assert material == Decimal(2) / Decimal("0.8") * 10 * 4 + 10
    c = sf.cost([sf.CostLine("10", "WC", Decimal(90), Decimal(120))], material)
    assert c.labour == 180
    assert c.total == 180 + material


def test_pareto_sorts_causes_and_accumulates_their_share() -> None:
    items = sf.pareto([("burr", Decimal(3)), (None, Decimal(1)), ("crack", Decimal(6)), ("burr", Decimal(2))])
    assert [(i.cause, i.amount, i.cumulative_share) for i in items] == [
        ("crack", 6, 0.5),
        ("burr", 5, 11 / 12),
        ("unspecified", 1, 1.0),
    ]


def test_adherence_counts_operations_started_and_finished_within_tolerance() -> None:
    a = sf.adherence([(t(8), t(9), t(8, 10), t(9, 40)), (t(9), t(10), None, None)], tolerance_minutes=15)
    assert (a.operations, a.started, a.started_on_time, a.finished, a.finished_on_time) == (2, 1, 1, 1, 0)
    assert a.start_adherence == 0.5
    assert a.finish_adherence == 0.0
