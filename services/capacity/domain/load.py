"""Load and capacity per work center and time bucket (infinite capacity), vectorised with numpy.

Rules (handbook "Load and capacity", plus the choices marked *):

- Buckets are local calendar periods of the plant's time zone: a day, an ISO week (Monday 00:00 to
  the next Monday 00:00) or a calendar month. *The grid covers whole buckets: from the bucket
  containing the first date to the bucket containing the last date (a week grid asked from a
  Wednesday starts on that week's Monday).
- Capacity of a work center in a bucket: the sum over its machines of each machine's working
  minutes inside the bucket (shift minutes × machines − maintenance/closed + overtime, exceptions
  naming a machine applying to that machine only). *Working time is counted where it happens: a
  night shift 22:00–06:00 gives 120 minutes to its first day and 360 to the next.
- Load: each operation's (exact, unrounded) minutes are spread over the buckets in proportion to
  the working minutes its ``[start, end)`` occupies in each, on the calendar of its machine (or
  the work center's reference calendar when no machine is given). *An operation occupying no
  working time (zero duration) puts all its minutes in the bucket containing its start. *Minutes
  falling before or after the grid are not in any bucket: they are reported per work center as
  ``outside_minutes`` so that bucketed + outside = total operation minutes.
- Utilisation = load / capacity (0 when both are 0, ``inf`` for load on zero capacity).
  Overloaded: load > capacity (1e-9 minute tolerance). *Idle: capacity > 0 and utilisation below
  ``idle_below`` (default 0.5). Bottleneck of the horizon: the work center with the highest total
  load / total capacity (first one listed on a tie; none when there is no load).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from typing import Protocol

import numpy as np
import numpy.typing as npt

from services.capacity.domain.calendar import WorkCenterCalendar, WorkingTime, local_midnight
from services.capacity.domain.model import PlannedOperation

__all__ = [
    "Bottleneck",
    "BucketGrid",
    "BucketLoad",
    "BucketSize",
    "CapacityEdit",
    "LoadEdits",
    "LoadProfile",
    "OperationEdit",
    "bucket_grid",
    "compute_load",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_TOLERANCE = 1e-9


class BucketSize(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def _bucket_start(day: date, size: BucketSize) -> date:
    if size is BucketSize.WEEK:
        return day - timedelta(days=day.weekday())
    if size is BucketSize.MONTH:
        return day.replace(day=1)
    return day


def _next_bucket(day: date, size: BucketSize) -> date:
    if size is BucketSize.WEEK:
        return day + timedelta(days=7)
    if size is BucketSize.MONTH:
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day + timedelta(days=1)


@dataclass(frozen=True, eq=False)
class BucketGrid:
    """Consecutive buckets: ``dates[i]`` starts bucket ``i``, ``edges[i]`` is its local midnight
    in epoch minutes; ``edges`` has one more element (the end of the last bucket)."""

    size: BucketSize
    dates: tuple[date, ...]
    edges: IntArray
    tz: tzinfo

    def __len__(self) -> int:
        return len(self.dates) - 1

    @property
    def first_date(self) -> date:
        return self.dates[0]

    @property
    def end_date(self) -> date:
        """The day after the last bucket (exclusive end): build calendars for ``[first, end)``."""
        return self.dates[-1]

    def index_of(self, day: date) -> int:
        """Index of the bucket containing ``day``."""
        start = _bucket_start(day, self.size)
        if not self.dates[0] <= start < self.dates[-1]:
            raise KeyError(f"{day.isoformat()} is outside the bucket grid")
        return self.dates.index(start)


def bucket_grid(size: BucketSize | str, start: date, end: date, tz: tzinfo = UTC) -> BucketGrid:
    """Whole buckets covering the dates ``[start, end)`` (``end`` exclusive, after ``start``)."""
    size = BucketSize(size)
    if end <= start:
        raise ValueError("the grid's end must be after its start")
    dates = [_bucket_start(start, size)]
    while dates[-1] < end:
        dates.append(_next_bucket(dates[-1], size))
    edges = np.array([local_midnight(d, tz) for d in dates], dtype=np.int64)
    return BucketGrid(size, tuple(dates), edges, tz)


@dataclass(frozen=True)
class BucketLoad:
    work_center: str
    bucket_start: date
    load_minutes: float
    capacity_minutes: float
    utilisation: float


@dataclass(frozen=True)
class Bottleneck:
    work_center: str
    load_minutes: float
    capacity_minutes: float
    utilisation: float


@dataclass(frozen=True)
class OperationEdit:
    """Replace operation ``operation``'s load: ``pieces`` (bucket, minutes) on ``work_center``
    (None: the operation leaves the plant, e.g. subcontracted), ``outside`` minutes off-grid."""

    operation: int
    work_center: str | None
    pieces: tuple[tuple[int, float], ...]
    outside: float = 0.0


@dataclass(frozen=True)
class CapacityEdit:
    work_center: str
    bucket: int
    minutes: float


class LoadEdits(Protocol):
    """Anything carrying edits of a load profile (a proposal, a planner's what-if)."""

    @property
    def operation_edits(self) -> tuple[OperationEdit, ...]: ...

    @property
    def capacity_edits(self) -> tuple[CapacityEdit, ...]: ...


def _utilisation(load: FloatArray, capacity: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, load / np.where(capacity > 0, capacity, 1.0), 0.0)
    return np.where((capacity <= 0) & (load > _TOLERANCE), np.inf, ratio)


@dataclass(frozen=True, eq=False)
class LoadProfile:
    """Capacity and load of every work center in every bucket, and the pieces behind the load.

    Arrays are ``(work center, bucket)``. A piece is the part of one operation in one bucket;
    ``operation_wc`` / ``operation_outside`` give each operation's work center (-1 when it left)
    and its minutes outside the grid. Profiles are immutable: ``apply`` returns a new one.
    """

    grid: BucketGrid
    work_centers: tuple[str, ...]
    capacity: FloatArray
    load: FloatArray
    operations: tuple[PlannedOperation, ...]
    operation_wc: IntArray
    operation_outside: FloatArray
    piece_operation: IntArray
    piece_bucket: IntArray
    piece_minutes: FloatArray
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index.update({code: i for i, code in enumerate(self.work_centers)})

    def wc_index(self, work_center: str) -> int:
        return self._index[work_center]

    @property
    def outside_minutes(self) -> FloatArray:
        """Per work center, load minutes that fall outside the grid."""
        alive = self.operation_wc >= 0
        return np.bincount(
            self.operation_wc[alive], self.operation_outside[alive], minlength=len(self.work_centers)
        ).astype(np.float64)

    @property
    def utilisation(self) -> FloatArray:
        return _utilisation(self.load, self.capacity)

    def cell(self, work_center: str, bucket: int) -> BucketLoad:
        w = self.wc_index(work_center)
        load, capacity = float(self.load[w, bucket]), float(self.capacity[w, bucket])
        return BucketLoad(
            work_center, self.grid.dates[bucket], load, capacity, utilisation_of(load, capacity)
        )

    def _rows(self, mask: npt.NDArray[np.bool_]) -> list[BucketLoad]:
        w_idx, b_idx = np.nonzero(mask)
        util = self.utilisation[w_idx, b_idx].tolist()
        loads = self.load[w_idx, b_idx].tolist()
        capacities = self.capacity[w_idx, b_idx].tolist()
        codes, dates = self.work_centers, self.grid.dates
        return [
            BucketLoad(codes[w], dates[b], load, capacity, u)
            for w, b, load, capacity, u in zip(
                w_idx.tolist(), b_idx.tolist(), loads, capacities, util, strict=True
            )
        ]

    def rows(self) -> list[BucketLoad]:
        """Every (work center, bucket) cell, work centers in order, buckets in time order."""
        return self._rows(np.ones(self.load.shape, dtype=bool))

    def overloaded(self) -> list[BucketLoad]:
        """Cells whose load exceeds capacity."""
        return self._rows(self.load > self.capacity + _TOLERANCE)

    def idle(self, idle_below: float = 0.5) -> list[BucketLoad]:
        """Cells with capacity whose utilisation is below ``idle_below``."""
        return self._rows((self.capacity > 0) & (self.utilisation < idle_below))

    def bottleneck(self) -> Bottleneck | None:
        """The work center with the highest total load / total capacity over the horizon."""
        load = self.load.sum(axis=1)
        capacity = self.capacity.sum(axis=1)
        if not len(load) or float(load.max()) <= _TOLERANCE:
            return None
        util = _utilisation(load, capacity)
        w = int(np.argmax(util))
        return Bottleneck(self.work_centers[w], float(load[w]), float(capacity[w]), float(util[w]))

    def spare(self, work_center: str, bucket: int) -> float:
        """Capacity minus load of a cell (negative when overloaded)."""
        w = self.wc_index(work_center)
        return float(self.capacity[w, bucket] - self.load[w, bucket])

    @cached_property
    def _by_cell(self) -> tuple[IntArray, IntArray]:
        """Pieces sorted by (work center, bucket) cell, and each cell's first position."""
        n_b = len(self.grid)
        key = self.operation_wc[self.piece_operation] * n_b + self.piece_bucket
        order = np.argsort(key, kind="stable")
        firsts = np.searchsorted(key[order], np.arange(len(self.work_centers) * n_b + 1))
        return order, firsts

    @cached_property
    def _by_operation(self) -> tuple[IntArray, IntArray]:
        """Pieces sorted by operation, and each operation's first position."""
        order = np.argsort(self.piece_operation, kind="stable")
        firsts = np.searchsorted(self.piece_operation[order], np.arange(len(self.operations) + 1))
        return order, firsts

    def pieces_in(self, work_center: str, bucket: int) -> list[tuple[int, float]]:
        """``(operation index, minutes)`` of the operations loading a cell."""
        order, firsts = self._by_cell
        cell = self.wc_index(work_center) * len(self.grid) + bucket
        idx = order[firsts[cell] : firsts[cell + 1]]
        return list(zip(self.piece_operation[idx].tolist(), self.piece_minutes[idx].tolist(), strict=True))

    def pieces_of(self, operation: int) -> list[tuple[int, float]]:
        """``(bucket, minutes)`` of one operation, in time order."""
        order, firsts = self._by_operation
        idx = order[firsts[operation] : firsts[operation + 1]]
        pairs = zip(self.piece_bucket[idx].tolist(), self.piece_minutes[idx].tolist(), strict=True)
        return sorted(pairs)

    def apply(self, edits: LoadEdits) -> LoadProfile:
        """What-if: a new profile with the edits applied; this one is left untouched."""
        return self.edited(edits.operation_edits, edits.capacity_edits)

    def edited(
        self, operation_edits: Iterable[OperationEdit] = (), capacity_edits: Iterable[CapacityEdit] = ()
    ) -> LoadProfile:
        """A new profile with operations' load replaced and capacities changed."""
        capacity = self.capacity.copy()
        for c in capacity_edits:
            capacity[self.wc_index(c.work_center), c.bucket] += c.minutes
        op_wc = self.operation_wc.copy()
        op_outside = self.operation_outside.copy()
        keep = np.ones(len(self.piece_operation), dtype=bool)
        new_ops: list[int] = []
        new_buckets: list[int] = []
        new_minutes: list[float] = []
        for e in operation_edits:
            keep &= self.piece_operation != e.operation
            new_ops = [o for o in new_ops if o != e.operation]
            op_wc[e.operation] = -1 if e.work_center is None else self.wc_index(e.work_center)
            op_outside[e.operation] = e.outside
            for bucket, minutes in e.pieces:
                new_ops.append(e.operation)
                new_buckets.append(bucket)
                new_minutes.append(minutes)
        piece_op = np.concatenate([self.piece_operation[keep], np.array(new_ops, dtype=np.int64)])
        piece_bucket = np.concatenate([self.piece_bucket[keep], np.array(new_buckets, dtype=np.int64)])
        piece_minutes = np.concatenate([self.piece_minutes[keep], np.array(new_minutes, dtype=np.float64)])
        load = _accumulate(
            op_wc[piece_op], piece_bucket, piece_minutes, len(self.work_centers), len(self.grid)
        )
        return LoadProfile(
            self.grid,
            self.work_centers,
            capacity,
            load,
            self.operations,
            op_wc,
            op_outside,
            piece_op,
            piece_bucket,
            piece_minutes,
        )


def _accumulate(wc: IntArray, bucket: IntArray, minutes: FloatArray, n_wc: int, n_bucket: int) -> FloatArray:
    alive = wc >= 0
    flat = np.bincount(
        wc[alive] * n_bucket + bucket[alive], weights=minutes[alive], minlength=n_wc * n_bucket
    )
    return flat.reshape(n_wc, n_bucket).astype(np.float64)


def compute_load(
    calendars: Mapping[str, WorkCenterCalendar],
    operations: Sequence[PlannedOperation],
    grid: BucketGrid,
) -> LoadProfile:
    """Capacity and load per work center (in ``calendars`` order) and bucket of ``grid``.

    Working time before each bucket edge is computed once per distinct calendar (prefix sums); each
    operation costs two binary searches plus one small piece per bucket it touches.
    """
    codes = tuple(calendars)
    index = {code: i for i, code in enumerate(codes)}
    n_wc, n_b = len(codes), len(grid)

    # Distinct working times (machines without their own exceptions share their reference).
    working: list[WorkingTime] = []
    slot: dict[int, int] = {}

    def slot_of(w: WorkingTime) -> int:
        key = id(w)
        if key not in slot:
            slot[key] = len(working)
            working.append(w)
        return slot[key]

    machine_slot: dict[tuple[int, str], int] = {}
    reference_slot = np.empty(n_wc, dtype=np.int64)
    capacity = np.zeros((n_wc, n_b), dtype=np.float64)
    for w, code in enumerate(codes):
        cal = calendars[code]
        reference_slot[w] = slot_of(cal.reference)
        for machine, machine_time in cal.machines.items():
            machine_slot[(w, machine)] = slot_of(machine_time)
    edge_w = (
        np.stack([wt.working_before_many(grid.edges) for wt in working])
        if working
        else np.zeros((0, n_b + 1))
    )
    per_slot = np.diff(edge_w, axis=1).astype(np.float64)
    for (w, _machine), s in machine_slot.items():
        capacity[w] += per_slot[s]

    n = len(operations)
    try:
        op_wc = np.fromiter((index[o.work_center] for o in operations), np.int64, n)
    except KeyError as exc:
        raise KeyError(f"operation on a work center without a calendar: {exc.args[0]}") from None
    op_slot = np.fromiter(
        (
            machine_slot.get((int(w), o.machine), -1) if o.machine is not None else -1
            for w, o in zip(op_wc, operations, strict=True)
        ),
        np.int64,
        n,
    )
    op_slot = np.where(op_slot < 0, reference_slot[op_wc] if n else op_slot, op_slot)
    start = np.fromiter((o.start for o in operations), np.int64, n)
    end = np.fromiter((o.end for o in operations), np.int64, n)
    minutes = np.fromiter((o.minutes for o in operations), np.float64, n)
    if np.any(end < start):
        raise ValueError("an operation ends before it starts")

    # Working minutes before start and end, one vectorised search per distinct calendar.
    w_start = np.zeros(n, dtype=np.int64)
    w_end = np.zeros(n, dtype=np.int64)
    order = np.argsort(op_slot, kind="stable")
    bounds = np.searchsorted(op_slot[order], np.arange(len(working) + 1))
    for s, wt in enumerate(working):
        idx = order[bounds[s] : bounds[s + 1]]
        if len(idx):
            w_start[idx] = wt.working_before_many(start[idx])
            w_end[idx] = wt.working_before_many(end[idx])
    occupied = w_end - w_start

    edges = grid.edges
    first = np.searchsorted(edges, start, "right") - 1
    last = np.searchsorted(edges, end, "left") - 1
    last = np.maximum(last, first)
    zero = occupied == 0
    in_grid = np.where(
        zero, (start >= edges[0]) & (start < edges[-1]), (end > edges[0]) & (start < edges[-1])
    )
    first = np.clip(first, 0, n_b - 1)
    last = np.where(zero, first, np.clip(last, 0, n_b - 1))
    counts = np.where(in_grid, last - first + 1, 0)

    total = int(counts.sum())
    piece_op = np.repeat(np.arange(n, dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    piece_bucket = first[piece_op] + (np.arange(total, dtype=np.int64) - offsets[piece_op])
    ps = op_slot[piece_op]
    lo, hi = w_start[piece_op], w_end[piece_op]
    inside = np.clip(edge_w[ps, piece_bucket + 1], lo, hi) - np.clip(edge_w[ps, piece_bucket], lo, hi)
    dur = occupied[piece_op]
    piece_minutes = np.where(
        dur > 0, minutes[piece_op] * inside / np.where(dur > 0, dur, 1), minutes[piece_op]
    ).astype(np.float64)
    nonzero = piece_minutes != 0
    piece_op, piece_bucket, piece_minutes = piece_op[nonzero], piece_bucket[nonzero], piece_minutes[nonzero]

    bucketed = np.bincount(piece_op, weights=piece_minutes, minlength=n) if n else np.zeros(0)
    outside = minutes - bucketed
    outside = np.where(np.abs(outside) < _TOLERANCE * np.maximum(1.0, minutes), 0.0, outside)
    load = _accumulate(op_wc[piece_op], piece_bucket, piece_minutes, n_wc, n_b)
    return LoadProfile(
        grid,
        codes,
        capacity,
        load,
        tuple(operations),
        op_wc,
        outside.astype(np.float64),
        piece_op,
        piece_bucket,
        piece_minutes,
    )


def utilisation_of(load: float, capacity: float) -> float:
    """Scalar utilisation with the module's rule (0 for 0/0, inf for load on no capacity)."""
    if capacity > 0:
        return load / capacity
    return math.inf if load > _TOLERANCE else 0.0
