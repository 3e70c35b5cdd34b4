"""A plant schedule: released manufacturing orders, routings, work centers and calendars turned
into a :class:`~services.scheduler.domain.model.Problem`, and its solution turned back into
timestamps.

**How calendars are modelled (the "union working-time" model).** The solver (``cpsat``) knows
working durations and machine unavailability windows, *pausable* (the operation may span the
window and pauses across it) or *hard* (it may not span it). The rule to honour is: an operation
pauses outside its machine's working time and resumes at the next shift start, and nothing else
runs on the machine in between. So the problem is solved on a *compressed time line*:

- ``U`` = the union of every machine's working time over the horizon (a minute when at least one
  machine works). Solver time ``u`` counts the minutes of ``U`` from the origin; a minute when no
  machine works (nights, weekends, plant-wide holidays) does not exist for the solver;
- an option's duration is its **working** minutes, ``ceil((setup + Q·run) / efficiency)``;
- a minute of ``U`` when a given machine does not work is a window of that machine: **pausable**
  when its calendar says so (its shifts are shorter than another work center's, a holiday or
  maintenance of its calendar), **hard** when it is shift time lost to a downtime (breakdown);
- release = the first ``U`` minute at or after ``max(order release, component availability, now,
  frozen_until)``; due = the end of the due date, as the ``U`` minutes before it;
- fixed (started, finished or frozen) operations keep their real times, mapped onto ``U``; they
  are hard blocks for the others.

Mapping a solution back, operation ``[u_s, u_e)`` runs from the real minute of ``U`` minute
``u_s`` to the end of ``U`` minute ``u_e − 1``. It is **sound**: the solver puts the first and
last minutes outside the machine's windows and counts as work only the ``U`` minutes outside them
(so the machine's working minutes inside are exactly the duration), the real minutes skipped are
ones when no machine works, and the machine runs nothing else in between (the operation's elapsed
span is in the machine's no-overlap, and the map is monotone). So an operation pauses across a
night, weekend or holiday of its machine, whatever the other machines do, and resumes exactly at
the next shift start. A setup forms one block with the operation it precedes: its minutes are the
machine's working minutes just before the operation, pausing the same way.

**Limits (honest).** A downtime may not be spanned: an operation waits for its end (only the shift
time it removes is a hard window; a downtime inside a night changes nothing); a downtime when no
machine works at all is outside ``U`` and so is paused across like a night. Weighted tardiness is
optimised in ``U`` minutes (working time late), and reported in clock minutes.

:func:`validate_plant` checks the real rule on timestamps, independently of the mapping: working
minutes of the machine's calendar between start and end = the duration; start and last minute
are working minutes; nothing else on the machine in between; setups fit in the machine's working
minutes between two operations; precedence, release, and fixed operations kept.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.scheduler.domain.calendar import (
    WorkCalendar,
    WorkingTime,
    as_utc,
    at_minute,
    floor_minute,
    merge,
    minutes_from,
    minutes_up_from,
    subtract,
)
from services.scheduler.domain.model import (
    Assignment,
    FixedAssignment,
    Job,
    Objective,
    Operation,
    Option,
    Problem,
    Unavailability,
)

# -- input -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlantOrder:
    id: str
    sku: str
    quantity: Decimal
    release: datetime
    due: datetime  # the end of the due date
    weight: int = 1
    material_available: datetime | None = None  # when its components are there (None: not gating)
    blocked: str | None = None  # why it may not be scheduled (a material shortage)


@dataclass(frozen=True, slots=True)
class RoutingOperation:
    seq: int
    work_center: str
    setup_minutes: Decimal
    run_minutes_per_unit: Decimal
    alternates: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class WorkCenter:
    code: str
    machines: tuple[str, ...]
    calendar: str
    efficiency: Decimal = Decimal(1)
    hourly_cost: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class FrozenOperation:
    """An operation that keeps its machine and times; ``end`` None: computed from ``start`` by
    the machine's calendar (a started operation without a plan)."""

    job: str
    operation: str
    machine: str
    start: datetime
    end: datetime | None
    reason: str = "frozen"  # frozen | started | finished


@dataclass(frozen=True, slots=True)
class Downtime:
    machine: str
    start: datetime
    end: datetime | None  # None: until further notice (the end of the horizon)


@dataclass(frozen=True, slots=True)
class PlantData:
    orders: tuple[PlantOrder, ...]
    routings: Mapping[str, tuple[RoutingOperation, ...]]
    work_centers: Mapping[str, WorkCenter]
    calendars: Mapping[str, WorkCalendar]
    families: Mapping[str, str | None] = field(default_factory=dict)
    #: work center → {(from_family, to_family): minutes}
    setup_matrices: Mapping[str, Mapping[tuple[str, str], int]] = field(default_factory=dict)
    downtimes: tuple[Downtime, ...] = ()
    frozen: tuple[FrozenOperation, ...] = ()


def operation_minutes(setup: Decimal, run: Decimal, quantity: Decimal, efficiency: Decimal) -> int:
    """Working minutes of an operation: ``ceil((setup + Q·run) / efficiency)``, at least 1."""
    return max(1, math.ceil((Decimal(setup) + Decimal(quantity) * Decimal(run)) / Decimal(efficiency)))


# -- output ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skipped:
    order: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlantProblem:
    problem: Problem
    origin: datetime
    timeline: WorkingTime  # U: the union of the machines' working time, minutes from origin
    machine_time: Mapping[str, WorkingTime]  # real working time per machine (downtimes cut)
    machine_center: Mapping[str, str]
    #: (job, operation) → {machine: working minutes}
    durations: Mapping[tuple[str, str], Mapping[str, int]]
    releases: Mapping[str, int]  # job → real release minute
    dues: Mapping[str, int]  # job → real due minute
    fixed: Mapping[tuple[str, str], tuple[str, int, int]]  # real (machine, start, end)
    orders: Mapping[str, PlantOrder]
    skipped: tuple[Skipped, ...] = ()
    horizon_end: int = 0

    def minute(self, value: datetime) -> int:
        return minutes_from(self.origin, value)

    def at(self, minute: int) -> datetime:
        return at_minute(self.origin, minute)


@dataclass(frozen=True, slots=True)
class PlantAssignment:
    job: str
    operation: str
    machine: str
    work_center: str
    start: int  # real minutes from the origin
    end: int
    duration: int  # working minutes
    setup: int  # working minutes of setup just before
    frozen: bool = False


# -- building ----------------------------------------------------------------------------------


def build(
    data: PlantData,
    *,
    now: datetime,
    horizon_days: int,
    objective: Sequence[Objective] = (Objective.WEIGHTED_TARDINESS,),
    frozen_until: datetime | None = None,
) -> PlantProblem:
    """The problem of scheduling ``data`` from ``now`` over ``horizon_days`` days."""
    now = as_utc(now)
    origin = floor_minute(min([now] + [as_utc(f.start) for f in data.frozen]))
    hi = minutes_up_from(origin, now + timedelta(days=horizon_days))
    not_before = max(now, as_utc(frozen_until)) if frozen_until is not None else now

    skipped: list[Skipped] = []
    machine_center: dict[str, str] = {}
    for wc in data.work_centers.values():
        for m in wc.machines:
            machine_center.setdefault(m, wc.code)

    def usable(code: str) -> str | None:
        wc = data.work_centers.get(code)
        if wc is None:
            return f"work center {code!r} is unknown"
        if not wc.machines:
            return f"work center {code!r} has no machine"
        if wc.calendar not in data.calendars:
            return f"calendar {wc.calendar!r} of work center {code!r} is unknown"
        if wc.efficiency <= 0:
            return f"work center {code!r} has efficiency {wc.efficiency}"
        return None

    # Orders that can be scheduled, and the machines they use.
    orders: list[PlantOrder] = []
    used: dict[str, None] = {}
    for order in data.orders:
        routing = data.routings.get(order.sku)
        reason = order.blocked
        if reason is None and not routing:
            reason = f"no routing for {order.sku!r}"
        elif reason is None and routing:
            for op in routing:
                reason = usable(op.work_center)
                if reason:
                    break
        if reason:
            skipped.append(Skipped(order.id, reason))
            continue
        orders.append(order)
        assert routing is not None
        for op in routing:
            for code in (op.work_center, *(a for a, _ in op.alternates)):
                if usable(code) is None:
                    for m in data.work_centers[code].machines:
                        used.setdefault(m)
    frozen = [f for f in data.frozen if f.job in {o.id for o in orders}]
    for f in frozen:
        used.setdefault(f.machine)

    # Working time per machine, then the union time line.
    machine_time: dict[str, WorkingTime] = {}
    shift_time: dict[str, list[tuple[int, int]]] = {}  # calendar working time, downtimes not cut
    for m in used:
        wc_code = machine_center.get(m)
        center = data.work_centers.get(wc_code) if wc_code else None
        cal = data.calendars.get(center.calendar) if center else None
        intervals = cal.machine_intervals(m, origin, 0, hi) if cal else []
        down = [
            (minutes_from(origin, d.start), hi if d.end is None else minutes_up_from(origin, d.end))
            for d in data.downtimes
            if d.machine == m
        ]
        shift_time[m] = merge(intervals)
        machine_time[m] = WorkingTime(subtract(shift_time[m], merge(down)))
    timeline = WorkingTime(merge(i for t in machine_time.values() for i in t.intervals))
    # A machine's off-time on U: a calendar break (pausable) or shift time lost to a downtime (hard).
    windows: list[Unavailability] = []
    for m, t in machine_time.items():
        off = subtract(timeline.intervals, t.intervals)
        calendar_off = subtract(off, shift_time[m])
        lost = subtract(off, calendar_off)  # off ∩ shifts: the downtimes
        for spans, pausable in ((calendar_off, True), (lost, False)):
            for s, e in spans:
                us, ue = timeline.before(s), timeline.before(e)
                if ue > us:
                    windows.append(Unavailability(m, us, ue, pausable))

    # Jobs.
    setups: dict[tuple[str, str, str], int] = {}
    for code, matrix in data.setup_matrices.items():
        matrix_center = data.work_centers.get(code)
        for m in matrix_center.machines if matrix_center else ():
            if m in used:
                for (a, b), minutes in matrix.items():
                    setups[(m, a, b)] = int(minutes)
    frozen_by_key = {(f.job, f.operation): f for f in frozen}
    durations: dict[tuple[str, str], dict[str, int]] = {}
    fixed_real: dict[tuple[str, str], tuple[str, int, int]] = {}
    fixed: list[FixedAssignment] = []
    jobs: list[Job] = []
    releases: dict[str, int] = {}
    dues: dict[str, int] = {}
    for order in orders:
        family = data.families.get(order.sku)
        ops: list[Operation] = []
        for rop in sorted(data.routings[order.sku], key=lambda o: o.seq):
            op_id = str(rop.seq)
            options: dict[str, int] = {}
            runs = [(rop.work_center, rop.run_minutes_per_unit)] + [
                (code, run) for code, run in rop.alternates if usable(code) is None
            ]
            for code, run in runs:
                wc = data.work_centers[code]
                minutes = operation_minutes(rop.setup_minutes, run, order.quantity, wc.efficiency)
                for m in wc.machines:
                    options[m] = min(options.get(m, minutes), minutes)
            durations[(order.id, op_id)] = options
            ops.append(Operation(op_id, tuple(Option(m, d) for m, d in options.items()), family))
            kept = frozen_by_key.get((order.id, op_id))
            if kept is not None:
                start = minutes_from(origin, kept.start)
                if kept.end is not None:
                    end = minutes_up_from(origin, kept.end)
                else:
                    work = machine_time[kept.machine]
                    d = options.get(kept.machine) or min(options.values())
                    end = work.advance(start, d) or hi
                    end = max(end, minutes_up_from(origin, now))
                end = max(end, start)
                fixed_real[(order.id, op_id)] = (kept.machine, start, end)
                fixed.append(
                    FixedAssignment(
                        order.id, op_id, kept.machine, timeline.before(start), timeline.before(end)
                    )
                )
        release = max(
            [as_utc(order.release), not_before]
            + ([as_utc(order.material_available)] if order.material_available else [])
        )
        releases[order.id] = minutes_up_from(origin, release)
        dues[order.id] = minutes_from(origin, order.due)
        jobs.append(
            Job(
                order.id,
                tuple(ops),
                release=timeline.before(releases[order.id]),
                due=timeline.before(dues[order.id]),
                weight=order.weight,
            )
        )
    problem = Problem(
        jobs=tuple(jobs),
        machines=tuple(used),
        setups=setups,
        objective=tuple(objective),
        horizon=max([timeline.total] + [f.end for f in fixed]),
        unavailability=tuple(windows),
        fixed=tuple(fixed),
    )
    return PlantProblem(
        problem=problem,
        origin=origin,
        timeline=timeline,
        machine_time=machine_time,
        machine_center={m: machine_center.get(m, "") for m in used},
        durations=durations,
        releases=releases,
        dues=dues,
        fixed=fixed_real,
        orders={o.id: o for o in orders},
        skipped=tuple(skipped),
        horizon_end=hi,
    )


def freeze(
    previous: Sequence[PlantAssignment | FrozenOperation],
    progress: Mapping[tuple[str, str], tuple[str, str, datetime | None, datetime | None]],
    *,
    origin: datetime,
    frozen_until: datetime | None,
    downtimes: Sequence[Downtime] = (),
) -> list[FrozenOperation]:
    """What keeps its machine and times in a new schedule.

    ``previous``: the operations of the last schedule (times as datetimes, or minutes from
    ``origin`` for plant assignments); ``progress``: (job, operation) → (state, machine,
    started_at, finished_at) from the shop floor. Finished operations keep their actual times;
    started (or paused) ones their actual start, machine and planned end (or, without a plan, an
    end computed from the calendar); operations of the last schedule starting before
    ``frozen_until`` keep their planned times, unless they meet a downtime on their machine.
    """
    out: dict[tuple[str, str], FrozenOperation] = {}
    planned: dict[tuple[str, str], tuple[str, datetime, datetime]] = {}
    for p in previous:
        if isinstance(p, PlantAssignment):
            planned[(p.job, p.operation)] = (
                p.machine,
                at_minute(origin, p.start),
                at_minute(origin, p.end),
            )
        elif p.end is not None:
            planned[(p.job, p.operation)] = (p.machine, as_utc(p.start), as_utc(p.end))
    for key, (state, machine, started, finished) in progress.items():
        if state == "finished" and started is not None and finished is not None:
            out[key] = FrozenOperation(key[0], key[1], machine, started, finished, "finished")
        elif state in ("started", "paused") and started is not None:
            plan = planned.get(key)
            end = plan[2] if plan is not None and plan[0] == machine and plan[2] > started else None
            out[key] = FrozenOperation(key[0], key[1], machine, started, end, "started")
    if frozen_until is not None:
        limit = as_utc(frozen_until)
        for key, (machine, start, end) in planned.items():
            if key in out or start >= limit:
                continue
            if any(
                d.machine == machine and start < (d.end or end) and as_utc(d.start) < end for d in downtimes
            ):
                continue
            out[key] = FrozenOperation(key[0], key[1], machine, start, end, "frozen")
    return list(out.values())


# -- reading a solution back ---------------------------------------------------------------------


def to_plant(pp: PlantProblem, assignments: Sequence[Assignment]) -> list[PlantAssignment]:
    """The solver's assignments (``U`` minutes) as real minutes from the origin, with setups."""
    t = pp.timeline
    family = {(j.id, o.id): o.family for j in pp.problem.jobs for o in j.operations}
    out: list[PlantAssignment] = []
    for a in assignments:
        key = (a.job, a.operation)
        if key in pp.fixed:
            machine, start, end = pp.fixed[key]
            frozen = True
        else:
            machine = a.machine
            first, last = t.nth_minute(a.start), t.nth_minute(a.end - 1)
            if first is None or last is None:
                raise ValueError(f"{a.job}/{a.operation} ends after the horizon")
            start, end, frozen = first, last + 1, False
        duration = pp.durations.get(key, {}).get(machine, end - start)
        out.append(
            PlantAssignment(
                a.job,
                a.operation,
                machine,
                pp.machine_center.get(machine, ""),
                start,
                end,
                duration,
                0,
                frozen,
            )
        )
    by_machine: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(out):
        by_machine[p.machine].append(i)
    for idx in by_machine.values():
        idx.sort(key=lambda i: (out[i].start, out[i].end))
        for prev, cur in itertools.pairwise(idx):
            before, b = out[prev], out[cur]
            setup = pp.problem.setup_time(
                b.machine, family.get((before.job, before.operation)), family.get((b.job, b.operation))
            )
            if setup:
                out[cur] = PlantAssignment(
                    b.job, b.operation, b.machine, b.work_center, b.start, b.end, b.duration, setup, b.frozen
                )
    return out


def validate_plant(pp: PlantProblem, items: Sequence[PlantAssignment]) -> list[str]:
    """Every broken rule of a plant schedule in real time; empty when it is feasible."""
    bad: list[str] = []
    ops = {(j.id, o.id): (j, o) for j in pp.problem.jobs for o in j.operations}
    family = {k: o.family for k, (_, o) in ops.items()}
    placed: dict[tuple[str, str], PlantAssignment] = {}
    for a in items:
        key = (a.job, a.operation)
        if key not in ops:
            bad.append(f"{a.job}/{a.operation} is not an operation of the problem")
        elif key in placed:
            bad.append(f"{a.job}/{a.operation} is scheduled twice")
        else:
            placed[key] = a
    bad += [f"{k[0]}/{k[1]} is not scheduled" for k in ops if k not in placed]
    for key, a in placed.items():
        name = f"{a.job}/{a.operation}"
        if key in pp.fixed:
            if (a.machine, a.start, a.end) != pp.fixed[key]:
                bad.append(f"{name} must keep {pp.fixed[key]}, got {(a.machine, a.start, a.end)}")
            continue
        options = pp.durations[key]
        if a.machine not in options:
            bad.append(f"{name} runs on ineligible machine {a.machine}")
            continue
        work = pp.machine_time[a.machine]
        worked = work.minutes(a.start, a.end)
        if worked != options[a.machine]:
            bad.append(f"{name} gets {worked} working minutes on {a.machine}, needs {options[a.machine]}")
        if not work.is_working(a.start) or not work.is_working(a.end - 1):
            bad.append(f"{name} starts or ends outside {a.machine}'s working time")
        if a.start < pp.releases[a.job]:
            bad.append(f"{name} starts before its order's release")
    for job in pp.problem.jobs:
        for x, y in zip(job.operations, job.operations[1:], strict=False):
            p, q = placed.get((job.id, x.id)), placed.get((job.id, y.id))
            if (
                p
                and q
                and not ((job.id, x.id) in pp.fixed and (job.id, y.id) in pp.fixed)
                and q.start < p.end
            ):
                bad.append(f"{job.id}/{y.id} starts before {job.id}/{x.id} ends")
    by_machine: dict[str, list[PlantAssignment]] = defaultdict(list)
    for a in placed.values():
        by_machine[a.machine].append(a)
    for machine, seq in by_machine.items():
        seq.sort(key=lambda a: (a.start, a.end))
        machine_work = pp.machine_time.get(machine)
        for p, q in itertools.pairwise(seq):
            if (p.job, p.operation) in pp.fixed and (q.job, q.operation) in pp.fixed:
                continue
            if q.start < p.end:
                bad.append(f"{q.job}/{q.operation} overlaps {p.job}/{p.operation} on {machine}")
                continue
            setup = pp.problem.setup_time(machine, family[(p.job, p.operation)], family[(q.job, q.operation)])
            if setup and machine_work is not None and machine_work.minutes(p.end, q.start) < setup:
                bad.append(
                    f"{q.job}/{q.operation} leaves less than {setup} working minutes of setup on {machine}"
                )
    return bad


@dataclass(frozen=True, slots=True)
class Tardiness:
    late_jobs: int
    total_weighted_minutes: int  # Σ w · max(0, C − due), clock minutes
    max_minutes: int
    per_job: Mapping[str, int]  # job → minutes late (0 on time)


def tardiness(pp: PlantProblem, items: Sequence[PlantAssignment]) -> Tardiness:
    completion: dict[str, int] = {}
    for a in items:
        completion[a.job] = max(completion.get(a.job, a.end), a.end)
    per_job = {j: max(0, c - pp.dues[j]) for j, c in completion.items() if j in pp.dues}
    weights = {j.id: j.weight for j in pp.problem.jobs}
    return Tardiness(
        late_jobs=sum(1 for v in per_job.values() if v > 0),
        total_weighted_minutes=sum(weights.get(j, 1) * v for j, v in per_job.items()),
        max_minutes=max(per_job.values(), default=0),
        per_job=per_job,
    )
