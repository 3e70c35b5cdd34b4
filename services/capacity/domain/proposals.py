"""Costed, explained ways out of each overloaded bucket, and what-if application.

For an overloaded cell (work center W, bucket b) with gap = load − capacity, the proposals are:

- ``overtime``: add ``min(gap, free)`` machine-minutes of working time to W in b, where ``free`` is
  the machine time of the bucket not yet working (bucket length × machines − capacity); cost
  ``minutes / 60 × hourly_cost(W) × overtime_factor`` (default 1.5). Named "overtime or an extra
  shift": the planner decides how to lay the minutes out.
- ``alternate``: move one operation loading the cell to an alternate work center A of its routing.
  Its time becomes ``(setup + Q × run_A) / efficiency(A)``, spread over the same buckets in the
  same proportions; proposed only if A has that much spare capacity in each of those buckets.
  Cost: ``minutes_A / 60 × hourly_cost(A) − minutes_W / 60 × hourly_cost(W)`` (may be negative).
- ``subcontract``: an operation with a subcontract option leaves the plant; cost ``unit_price × Q``
  (the internal time saved is not deducted: the price is what the planner commits to pay).
- ``move``: one operation moves whole into the nearest other bucket of W (earlier on a tie) where
  W has spare capacity for all its minutes and the operation's window still holds its occupied
  working minutes; the window runs from its earliest start (forward milestone, else its current
  start) to its latest end (backward milestone, required): the order still meets its due date.
  Cost 0. The rest of the order is not moved (load smoothing; the finite scheduler keeps the
  precedence).

Each proposal says how many minutes it takes off the cell (``relieved_minutes``) and whether that
closes the gap. Proposals of a cell are ranked by cost, then by relieved minutes (more first),
then by kind in the order above. ``apply`` returns the new load; the old profile is not changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

from services.capacity.domain.load import CapacityEdit, LoadProfile, OperationEdit
from services.capacity.domain.model import PlannedOperation, WorkCenter, occupied_minutes, operation_minutes

__all__ = ["OverloadProposals", "Proposal", "ProposalKind", "apply", "propose"]

_TOLERANCE = 1e-9


class ProposalKind(StrEnum):
    OVERTIME = "overtime"
    ALTERNATE = "alternate"
    SUBCONTRACT = "subcontract"
    MOVE = "move"


_KIND_RANK = {kind: i for i, kind in enumerate(ProposalKind)}


@dataclass(frozen=True)
class Proposal:
    kind: ProposalKind
    work_center: str
    bucket_start: date
    gap_minutes: float
    relieved_minutes: float
    cost: float
    explanation: str
    order: str | None = None
    seq: int | None = None
    target_work_center: str | None = None
    target_bucket_start: date | None = None
    operation_edits: tuple[OperationEdit, ...] = ()
    capacity_edits: tuple[CapacityEdit, ...] = ()

    @property
    def closes_gap(self) -> bool:
        return self.relieved_minutes >= self.gap_minutes - _TOLERANCE


@dataclass(frozen=True)
class OverloadProposals:
    work_center: str
    bucket_start: date
    load_minutes: float
    capacity_minutes: float
    gap_minutes: float
    proposals: tuple[Proposal, ...]


def apply(profile: LoadProfile, proposal: Proposal) -> LoadProfile:
    """What-if: the load after ``proposal``; ``profile`` itself is not modified."""
    return profile.apply(proposal)


@dataclass(frozen=True)
class _Cell:
    """The overloaded cell under study."""

    profile: LoadProfile
    wc: WorkCenter
    bucket: int
    gap: float


def _label(op: PlannedOperation) -> str:
    return f"order {op.order} op {op.seq}"


def _overtime(
    profile: LoadProfile, wc: WorkCenter, bucket: int, gap: float, factor: float
) -> Proposal | None:
    grid = profile.grid
    length = float(grid.edges[bucket + 1] - grid.edges[bucket])
    free = length * wc.calendar.machine_count - float(profile.capacity[profile.wc_index(wc.code), bucket])
    minutes = min(gap, max(free, 0.0))
    if minutes <= _TOLERANCE:
        return None
    cost = minutes / 60 * wc.hourly_cost * factor
    day = grid.dates[bucket]
    return Proposal(
        kind=ProposalKind.OVERTIME,
        work_center=wc.code,
        bucket_start=day,
        gap_minutes=gap,
        relieved_minutes=minutes,
        cost=cost,
        explanation=(
            f"Add {minutes:g} min of overtime or an extra shift on {wc.code} in the bucket of "
            f"{day.isoformat()}: {minutes:g}/60 h × {wc.hourly_cost:g}/h × {factor:g} = {cost:.2f}"
            + ("" if minutes >= gap - _TOLERANCE else f"; only {free:g} min are free, the gap is {gap:g}")
        ),
        capacity_edits=(CapacityEdit(wc.code, bucket, minutes),),
    )


def _alternates(
    cell: _Cell, work_centers: Mapping[str, WorkCenter], index: int, piece: float
) -> list[Proposal]:
    profile, wc, bucket, gap = cell.profile, cell.wc, cell.bucket, cell.gap
    op = profile.operations[index]
    if op.work_center != wc.code or op.minutes <= 0:
        return []  # already moved by a what-if: its alternates belong to its primary work center
    out: list[Proposal] = []
    pieces = profile.pieces_of(index)
    for alt in op.alternates:
        target = work_centers.get(alt.work_center)
        if target is None or alt.work_center not in profile.work_centers or alt.work_center == wc.code:
            continue
        alt_minutes = operation_minutes(
            op.setup_minutes, op.quantity, alt.run_minutes_per_unit, target.efficiency
        )
        ratio = alt_minutes / op.minutes
        moved = tuple((b, m * ratio) for b, m in pieces)
        if any(profile.spare(target.code, b) < m - _TOLERANCE for b, m in moved):
            continue
        cost = alt_minutes / 60 * target.hourly_cost - op.minutes / 60 * wc.hourly_cost
        out.append(
            Proposal(
                kind=ProposalKind.ALTERNATE,
                work_center=wc.code,
                bucket_start=profile.grid.dates[bucket],
                gap_minutes=gap,
                relieved_minutes=piece,
                cost=cost,
                explanation=(
                    f"Run {_label(op)} on alternate {target.code}: {alt_minutes:g} min instead of "
                    f"{op.minutes:g} min on {wc.code} ({alt_minutes - op.minutes:+g} min); cost "
                    f"{alt_minutes:g}/60 × {target.hourly_cost:g} − {op.minutes:g}/60 × {wc.hourly_cost:g} "
                    f"= {cost:+.2f}; frees {piece:g} min of the bucket"
                ),
                order=op.order,
                seq=op.seq,
                target_work_center=target.code,
                operation_edits=(
                    OperationEdit(index, target.code, moved, float(profile.operation_outside[index]) * ratio),
                ),
            )
        )
    return out


def _subcontract(cell: _Cell, index: int, piece: float) -> Proposal | None:
    profile, wc, bucket, gap = cell.profile, cell.wc, cell.bucket, cell.gap
    op = profile.operations[index]
    if op.subcontract is None:
        return None
    cost = op.subcontract.unit_price * op.quantity
    return Proposal(
        kind=ProposalKind.SUBCONTRACT,
        work_center=wc.code,
        bucket_start=profile.grid.dates[bucket],
        gap_minutes=gap,
        relieved_minutes=piece,
        cost=cost,
        explanation=(
            f"Subcontract {_label(op)} to {op.subcontract.supplier}: {op.subcontract.unit_price:g} × "
            f"{op.quantity:g} = {cost:.2f}; frees {piece:g} min of the bucket"
        ),
        order=op.order,
        seq=op.seq,
        operation_edits=(OperationEdit(index, None, ()),),
    )


def _move(cell: _Cell, index: int, piece: float) -> Proposal | None:
    profile, wc, bucket, gap = cell.profile, cell.wc, cell.bucket, cell.gap
    op = profile.operations[index]
    if op.latest_end is None:
        return None
    lo = op.earliest_start if op.earliest_start is not None else op.start
    hi = op.latest_end
    edges = profile.grid.edges
    # Only buckets overlapping the window [lo, hi) can take the operation.
    first = max(int(np.searchsorted(edges, lo, "right")) - 1, 0)
    last = min(int(np.searchsorted(edges, hi, "left")), len(profile.grid))
    if last <= first:
        return None
    w = profile.wc_index(wc.code)
    spare = profile.capacity[w, first:last] - profile.load[w, first:last]
    for b, minutes in profile.pieces_of(index):
        if first <= b < last:
            spare[b - first] += minutes  # its own load leaves the target bucket too
    working = wc.calendar.for_machine(op.machine)
    window_start = np.maximum(edges[first:last], lo)
    window_end = np.maximum(np.minimum(edges[first + 1 : last + 1], hi), window_start)
    room = working.working_before_many(window_end) - working.working_before_many(window_start)
    fits = (spare >= op.minutes - _TOLERANCE) & (room >= occupied_minutes(op.minutes))
    if first <= bucket < last:
        fits[bucket - first] = False
    candidates = np.nonzero(fits)[0] + first
    if not len(candidates):
        return None
    # Nearest bucket, the earlier one on a tie.
    b = int(candidates[np.lexsort((candidates, np.abs(candidates - bucket)))[0]])
    day = profile.grid.dates[b]
    return Proposal(
        kind=ProposalKind.MOVE,
        work_center=wc.code,
        bucket_start=profile.grid.dates[bucket],
        gap_minutes=gap,
        relieved_minutes=piece,
        cost=0.0,
        explanation=(
            f"Move {_label(op)} ({op.minutes:g} min) to the bucket of {day.isoformat()}, which has "
            f"{float(spare[b - first]):g} min spare and stays within the operation's slack "
            "(before its latest end)"
        ),
        order=op.order,
        seq=op.seq,
        target_work_center=wc.code,
        target_bucket_start=day,
        operation_edits=(OperationEdit(index, wc.code, ((b, op.minutes),)),),
    )


def propose(
    profile: LoadProfile,
    work_centers: Mapping[str, WorkCenter],
    overtime_factor: float = 1.5,
) -> list[OverloadProposals]:
    """For each overloaded cell (work centers in order, then time), its ranked proposals."""
    out: list[OverloadProposals] = []
    for cell in profile.overloaded():
        wc = work_centers[cell.work_center]
        bucket = profile.grid.index_of(cell.bucket_start)
        gap = cell.load_minutes - cell.capacity_minutes
        found: list[Proposal] = []
        context = _Cell(profile, wc, bucket, gap)
        overtime = _overtime(profile, wc, bucket, gap, overtime_factor)
        if overtime is not None:
            found.append(overtime)
        for index, piece in profile.pieces_in(wc.code, bucket):
            found.extend(_alternates(context, work_centers, index, piece))
            for option in (
                _subcontract(context, index, piece),
                _move(context, index, piece),
            ):
                if option is not None:
                    found.append(option)
        found.sort(key=lambda p: (p.cost, -p.relieved_minutes, _KIND_RANK[p.kind]))
        out.append(
            OverloadProposals(
                cell.work_center,
                cell.bucket_start,
                cell.load_minutes,
                cell.capacity_minutes,
                gap,
                tuple(found),
            )
        )
    return out
