"""Proposals for an overloaded Monday: A and B work 06:00–14:00 Mon–Fri (480 min), one machine each."""

from __future__ import annotations

from datetime import date

from services.capacity.domain.load import LoadProfile, bucket_grid, compute_load
from services.capacity.domain.model import Alternate, PlannedOperation, Subcontract, WorkCenter
from services.capacity.domain.proposals import ProposalKind, apply, propose
from tests.unit.capacity.builders import ONE_SHIFT, at, calendar

GRID = bucket_grid("day", date(2026, 3, 2), date(2026, 3, 7))


def centres() -> dict[str, WorkCenter]:
    a = calendar("A", shifts=ONE_SHIFT, start=GRID.first_date, end=GRID.end_date)
    b = calendar("B", shifts=ONE_SHIFT, start=GRID.first_date, end=GRID.end_date)
    return {"A": WorkCenter("A", a, hourly_cost=60), "B": WorkCenter("B", b, hourly_cost=90)}


def scenario(extra_on_b: float = 0) -> tuple[dict[str, WorkCenter], LoadProfile]:
    """Monday on A: O1 (10 × 30 = 300 min) + O2 (240 min) = 540 > 480, a 60 minute gap."""
    ops = [
        PlannedOperation(
            "O1",
            10,
            "A",
            at("2026-03-02T06:00"),
            at("2026-03-02T11:00"),
            300,
            quantity=10,
            alternates=(Alternate("B", 24),),
        ),
        PlannedOperation(
            "O2",
            10,
            "A",
            at("2026-03-02T06:00"),
            at("2026-03-02T10:00"),
            240,
            quantity=10,
            subcontract=Subcontract("S", 12),
            earliest_start=at("2026-03-02T06:00"),
            latest_end=at("2026-03-04T14:00"),
        ),
    ]
    if extra_on_b:
        ops.append(
            PlannedOperation("O3", 10, "B", at("2026-03-02T06:00"), at("2026-03-02T14:00"), extra_on_b)
        )
    wcs = centres()
    return wcs, compute_load({code: wc.calendar for code, wc in wcs.items()}, ops, GRID)


def test_proposals_are_costed_and_ranked_by_cost() -> None:
    wcs, profile = scenario()
    (cell,) = propose(profile, wcs)
    assert (cell.work_center, cell.bucket_start, cell.gap_minutes) == ("A", date(2026, 3, 2), 60)
    ranked = [(p.kind, p.order, p.cost, p.relieved_minutes) for p in cell.proposals]
    assert ranked == [
        # O2 to Tuesday, within its latest end (Wed 14:00): free.
        (ProposalKind.MOVE, "O2", 0.0, 240),
        # O1 on B: 10 × 24 = 240 min at 90/h = 360, instead of 300 min at 60/h = 300.
        (ProposalKind.ALTERNATE, "O1", 60.0, 300),
        # 60 min of overtime: 1 h × 60/h × 1.5.
        (ProposalKind.OVERTIME, None, 90.0, 60),
        # O2 bought from S: 12 × 10.
        (ProposalKind.SUBCONTRACT, "O2", 120.0, 240),
    ]
    assert all(p.closes_gap for p in cell.proposals)
    move = cell.proposals[0]
    assert move.target_bucket_start == date(2026, 3, 3)
    assert "O2" in move.explanation


def test_the_overtime_factor_is_a_parameter() -> None:
    wcs, profile = scenario()
    (cell,) = propose(profile, wcs, overtime_factor=2.0)
    overtime = next(p for p in cell.proposals if p.kind is ProposalKind.OVERTIME)
    assert overtime.cost == 120.0


def test_no_alternate_is_proposed_without_spare_capacity_on_it() -> None:
    # B already carries 300 of its 480 minutes on Monday: 180 spare < the 240 O1 would need.
    wcs, profile = scenario(extra_on_b=300)
    (cell,) = propose(profile, wcs)
    assert ProposalKind.ALTERNATE not in {p.kind for p in cell.proposals}


def test_applying_a_move_returns_the_new_load_and_leaves_the_old_one() -> None:
    wcs, profile = scenario()
    (cell,) = propose(profile, wcs)
    after = apply(profile, cell.proposals[0])
    assert after.load[profile.wc_index("A")].tolist() == [300, 240, 0, 0, 0]
    assert profile.load[profile.wc_index("A")].tolist() == [540, 0, 0, 0, 0]
    assert after.overloaded() == []


def test_applying_an_alternate_moves_the_load_with_its_new_run_time() -> None:
    wcs, profile = scenario()
    (cell,) = propose(profile, wcs)
    alternate = next(p for p in cell.proposals if p.kind is ProposalKind.ALTERNATE)
    after = profile.apply(alternate)
    assert after.load[:, 0].tolist() == [240, 240]
    assert profile.load[:, 0].tolist() == [540, 0]


def test_applying_overtime_raises_capacity_and_subcontracting_removes_the_load() -> None:
    wcs, profile = scenario()
    (cell,) = propose(profile, wcs)
    overtime = next(p for p in cell.proposals if p.kind is ProposalKind.OVERTIME)
    subcontract = next(p for p in cell.proposals if p.kind is ProposalKind.SUBCONTRACT)
    assert apply(profile, overtime).capacity[0, 0] == 540
    assert apply(profile, subcontract).load[0, 0] == 300
    assert profile.capacity[0, 0] == 480


def test_a_move_never_goes_past_the_operations_latest_end() -> None:
    wcs, profile = scenario()
    # Fill Tuesday on A so that the only spare days left are Thursday and Friday, after Wed 14:00.
    filler = [
        PlannedOperation("F", 10, "A", at("2026-03-03T06:00"), at("2026-03-03T14:00"), 480),
        PlannedOperation("G", 10, "A", at("2026-03-04T06:00"), at("2026-03-04T14:00"), 480),
    ]
    profile = compute_load(
        {code: wc.calendar for code, wc in wcs.items()}, [*profile.operations, *filler], GRID
    )
    (cell,) = propose(profile, wcs)
    assert ProposalKind.MOVE not in {p.kind for p in cell.proposals}
