"""Operation milestones at infinite capacity: backward ("au plus tard") and forward ("au plus tôt").

Rules (handbook "Load and capacity", plus the choices marked *):

- Operation time: ``(setup + Q × run_per_unit) / efficiency`` minutes of working time of ONE
  machine of the work center; *it occupies ``ceil`` of that many whole working minutes (a started
  minute is used; float noise below 1e-9 is ignored).
- Backward: the last operation ends at the end of the due date's last shift (a due date without
  shifts ends with the last shift of an earlier date); each earlier operation ends when the next
  one starts.
- Forward: the first operation starts at the first shift start of the release date (or of the next
  date having a shift); each next operation starts when the previous one ends.
- *Start and end are where work really begins and stops: a forward start that falls outside
  working time moves to where work resumes, a backward end to where work last stopped (an
  operation ending Friday 14:00 is not reported as ending Monday 06:00).
- *Machine: forward, the machine that finishes the operation first; backward, the one that lets it
  start last; ties go to the first machine listed. Machines differ only by exceptions naming them.
- *Slack of an operation: the working minutes, on its work center's reference calendar, from its
  forward start to its backward start (negative: late even at infinite capacity). The slack of the
  order is the smallest slack of its operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.capacity.domain.calendar import HorizonExceeded, from_minutes
from services.capacity.domain.model import (
    ManufacturingOrder,
    PlannedOperation,
    RoutingOperation,
    WorkCenter,
    occupied_minutes,
    operation_minutes,
)

__all__ = [
    "Direction",
    "OperationMilestone",
    "OrderPlan",
    "plan_order",
    "schedule_backward",
    "schedule_forward",
]


class Direction(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"


@dataclass(frozen=True)
class OperationMilestone:
    """Where one operation sits: epoch minutes ``start``/``end`` and its operation time."""

    order: str
    seq: int
    work_center: str
    machine: str
    minutes: float
    working_minutes: int
    start: int
    end: int
    operation: RoutingOperation

    def start_at(self, wc: WorkCenter) -> datetime:
        return from_minutes(self.start, wc.calendar.tz)

    def end_at(self, wc: WorkCenter) -> datetime:
        return from_minutes(self.end, wc.calendar.tz)


def _work_center(
    work_centers: Mapping[str, WorkCenter], order: ManufacturingOrder, op: RoutingOperation
) -> WorkCenter:
    try:
        return work_centers[op.work_center]
    except KeyError:
        raise KeyError(f"order {order.id} operation {op.seq}: unknown work center {op.work_center}") from None


def _minutes(order: ManufacturingOrder, op: RoutingOperation, wc: WorkCenter) -> float:
    return operation_minutes(op.setup_minutes, order.quantity, op.run_minutes_per_unit, wc.efficiency)


def _place_forward(
    order: ManufacturingOrder, op: RoutingOperation, wc: WorkCenter, not_before: int
) -> OperationMilestone:
    """Place ``op`` as early as possible from ``not_before`` on the machine finishing first."""
    minutes = _minutes(order, op, wc)
    need = occupied_minutes(minutes)
    best: tuple[int, int, str] | None = None
    for machine, working in wc.calendar.distinct_machines():
        try:
            start = working.next_working(not_before)
            end = working.add_working(start, need)
        except HorizonExceeded:
            continue
        if best is None or end < best[1]:
            best = (start, end, machine)
    if best is None:
        raise HorizonExceeded(f"order {order.id} operation {op.seq} does not fit in {wc.code}'s horizon")
    return OperationMilestone(order.id, op.seq, wc.code, best[2], minutes, need, best[0], best[1], op)


def _place_backward(
    order: ManufacturingOrder, op: RoutingOperation, wc: WorkCenter, not_after: int
) -> OperationMilestone:
    """Place ``op`` as late as possible, ending by ``not_after``, on the machine starting last."""
    minutes = _minutes(order, op, wc)
    need = occupied_minutes(minutes)
    best: tuple[int, int, str] | None = None
    for machine, working in wc.calendar.distinct_machines():
        try:
            end = working.previous_working_end(not_after)
            start = working.sub_working(end, need)
        except HorizonExceeded:
            continue
        if best is None or start > best[0]:
            best = (start, end, machine)
    if best is None:
        raise HorizonExceeded(f"order {order.id} operation {op.seq} does not fit in {wc.code}'s horizon")
    return OperationMilestone(order.id, op.seq, wc.code, best[2], minutes, need, best[0], best[1], op)


def schedule_forward(
    order: ManufacturingOrder, work_centers: Mapping[str, WorkCenter]
) -> list[OperationMilestone]:
    """Earliest dates: op 1 at the first shift start of the release date, each next at the end of
    the previous one."""
    if not order.operations:
        return []
    first_wc = _work_center(work_centers, order, order.operations[0])
    cursor = first_wc.calendar.reference.first_shift_start(order.release_date)
    out: list[OperationMilestone] = []
    for op in order.operations:
        placed = _place_forward(order, op, _work_center(work_centers, order, op), cursor)
        out.append(placed)
        cursor = placed.end
    return out


def schedule_backward(
    order: ManufacturingOrder, work_centers: Mapping[str, WorkCenter]
) -> list[OperationMilestone]:
    """Latest dates: the last op ends at the end of the due date's last shift, each earlier one
    ends when the next one starts."""
    if not order.operations:
        return []
    last_wc = _work_center(work_centers, order, order.operations[-1])
    cursor = last_wc.calendar.reference.last_shift_end(order.due_date)
    out: list[OperationMilestone] = []
    for op in reversed(order.operations):
        placed = _place_backward(order, op, _work_center(work_centers, order, op), cursor)
        out.append(placed)
        cursor = placed.start
    out.reverse()
    return out


@dataclass(frozen=True)
class OrderPlan:
    """Forward and/or backward milestones of one order and, when both exist, its slack."""

    order: ManufacturingOrder
    forward: tuple[OperationMilestone, ...] | None
    backward: tuple[OperationMilestone, ...] | None
    operation_slack: tuple[int, ...] | None
    slack_minutes: int | None

    def planned_operations(self, direction: Direction) -> list[PlannedOperation]:
        """The operations placed in ``direction``, as load input, with their move window
        (forward start … backward end) when both directions were computed."""
        placed = self.forward if direction is Direction.FORWARD else self.backward
        if placed is None:
            raise ValueError(f"order {self.order.id} was not scheduled {direction.value}")
        out: list[PlannedOperation] = []
        for i, m in enumerate(placed):
            out.append(
                PlannedOperation(
                    order=m.order,
                    seq=m.seq,
                    work_center=m.work_center,
                    start=m.start,
                    end=m.end,
                    minutes=m.minutes,
                    machine=m.machine,
                    quantity=self.order.quantity,
                    setup_minutes=m.operation.setup_minutes,
                    alternates=m.operation.alternates,
                    subcontract=m.operation.subcontract,
                    earliest_start=self.forward[i].start if self.forward else None,
                    latest_end=self.backward[i].end if self.backward else None,
                )
            )
        return out


def plan_order(
    order: ManufacturingOrder,
    work_centers: Mapping[str, WorkCenter],
    directions: tuple[Direction, ...] = (Direction.FORWARD, Direction.BACKWARD),
) -> OrderPlan:
    """Milestones in the requested directions; slack (see module rules) when both are computed."""
    forward = tuple(schedule_forward(order, work_centers)) if Direction.FORWARD in directions else None
    backward = tuple(schedule_backward(order, work_centers)) if Direction.BACKWARD in directions else None
    op_slack: tuple[int, ...] | None = None
    slack: int | None = None
    if forward is not None and backward is not None:
        op_slack = tuple(
            work_centers[f.work_center].calendar.reference.working_minutes(f.start, b.start)
            for f, b in zip(forward, backward, strict=True)
        )
        slack = min(op_slack) if op_slack else 0
    return OrderPlan(order, forward, backward, op_slack, slack)
