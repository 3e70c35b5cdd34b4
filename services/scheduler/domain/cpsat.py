"""The finite scheduler: a CP-SAT model of ``Problem``, warm-started by dispatching rules.

``solve`` runs, in order: structural checks; dispatching rules (the best schedule, re-checked by
the independent validator, is the fallback, the hint and, for makespan, the horizon); for weighted
tardiness on independent single machines an iterated local search; then one CP-SAT solve per
objective of the lexicographic list (each later level keeps the earlier levels at their found
values). The answer is the best validated schedule with an honest status, bound and gap.

The CP-SAT model, section by section (``_CpModel``):

- data: operations in job order, their options, fixed assignments, blocked time per machine;
- variables: start/end per operation (domains cut by heads and tails); one presence literal and
  one optional interval per option (a single mandatory interval when there is one option);
- pauses: for each option and each *pausable* window ``w`` of its machine that the option's
  bounds ``[release head, horizon − tail)`` let it meet (the others are pruned), booleans
  ``before`` (``end ≤ w.start``), ``spans`` (``start < w.start ∧ end > w.end``) and ``after``
  (``start ≥ w.end``), exactly one true when the option is chosen (none otherwise); its elapsed
  size is ``duration + Σ spans·len(w)``, its interval ``[start, start + size)`` (so nothing else
  runs on the machine meanwhile). Starting or ending inside a window is impossible. Cost: 3
  booleans, 3–4 reified linear constraints per (option, window) met, one size variable per option;
- setups pause with their operation: on a machine with setups and windows, the block ``[xs, end)``
  (``xs`` its setup's start) has a fourth boolean per window, ``in_setup`` (``xs < w.start ∧
  start ≥ w.end``), ``after`` means ``xs ≥ w.end``, and ``start − xs = setup + Σ in_setup·len(w)``;
- constraints: exactly one option; ``end = start + Σ (duration·literal + Σ len·spans)``; no
  overlap per machine with the machine's blocked time (hard windows and fixed work, merged) as
  fixed intervals; job-chain precedences and releases; with a setup matrix, one circuit per
  machine over the operations that may run there, an arc i→j forcing ``start_j ≥ end_i +
  setup(i, j)`` and, where the machine has windows, the block setup + operation as an extended
  interval that may not meet a hard window; for flexible problems a redundant cumulative of all
  operations over all machines;
- objective: makespan ``≥`` every job's end, or ``Σ w·T`` with ``T ≥ C − due``;
- solve: workers, time limit, seed; a callback reports (objective, bound, time) to ``on_progress``;
- hint: the dispatch schedule, every variable included (pause booleans, sizes, block starts): the
  dispatcher places operations and setups on the same working-minute walk, so it is feasible;
- read back: the chosen option's machine and the start/end values.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from services.scheduler.domain.dispatch import (
    best_dispatch,
    improve_weighted_tardiness,
    pause_windows,
    setup_start,
)
from services.scheduler.domain.model import (
    Assignment,
    Job,
    Objective,
    Operation,
    Problem,
    Solution,
    Status,
    objective_value,
    relative_gap,
    structural_errors,
)
from services.scheduler.domain.validator import validate


@dataclass(frozen=True, slots=True)
class SolverParams:
    time_limit_s: float = 10.0
    num_workers: int = 2
    seed: int = 0
    log_search_progress: bool = False
    use_hint: bool = True
    dispatch_restarts: int = 8
    local_search_share: float = 0.6  # of the time limit, when the tardiness local search applies
    redundant_cumulative: bool = True
    cp_sat_parameters: Mapping[str, bool | int | float | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Progress:
    objective: int
    best_bound: int
    wall_time_s: float
    level: int = 0


ProgressCallback = Callable[[Progress], None]


class InvalidProblemError(ValueError):
    """The problem is ill-formed (see ``model.structural_errors``)."""


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True, slots=True)
class _Pause:
    """One pausable window ``[start, end)`` of an option's machine and where the option stands:
    exactly one literal is true when the option is chosen, none otherwise."""

    start: int
    end: int
    before: cp_model.IntVar  # end ≤ w.start
    spans: cp_model.IntVar  # start < w.start and end > w.end: the operation pauses across it
    after: cp_model.IntVar  # block start (start, without setup) ≥ w.end
    in_setup: cp_model.IntVar | None  # block start < w.start, start ≥ w.end: the setup pauses


@dataclass(slots=True)
class _OpVars:
    job: Job
    op: Operation
    start: cp_model.IntVar
    end: cp_model.IntVar
    machines: list[str]
    durations: list[int]
    literals: list[cp_model.IntVar | int]  # 1 when the option is mandatory
    intervals: list[cp_model.IntervalVar]
    end_lb: int
    span: tuple[int, int] | None  # (start, end) of a fixed assignment
    #: per option: its pausable windows that the bounds let it meet, with their literals
    pauses: list[list[_Pause]] = field(default_factory=list)
    sizes: list[cp_model.IntVar | int] = field(default_factory=list)  # elapsed, per option
    #: per option on a machine with setups and windows: the start of the block setup + operation
    block_starts: list[cp_model.IntVar | None] = field(default_factory=list)
    block_los: list[int] = field(default_factory=list)  # lower bounds of the block starts
    max_elapsed: int = 0

    @property
    def fixed(self) -> bool:
        return self.span is not None


def _merge(blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(b for b in blocks if b[1] > b[0]):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def safe_horizon(problem: Problem) -> int:
    """A horizon that keeps every optimal (left-justified) schedule: the last fixed event plus
    all the work and the largest setups done one after the other."""
    last_event = max(
        [0]
        + [j.release for j in problem.jobs]
        + [w.end for w in problem.unavailability]
        + [f.end for f in problem.fixed]
    )
    fixed = problem.fixed_by_key()
    work = 0
    max_setup = max(problem.setups.values(), default=0)
    for job in problem.jobs:
        for op in job.operations:
            f = fixed.get((job.id, op.id))
            work += (f.end - f.start) if f else max(o.duration for o in op.options) + max_setup
    return last_event + work


class _CpModel:
    def __init__(self, problem: Problem, horizon: int, redundant_cumulative: bool) -> None:
        self.problem = problem
        self.horizon = horizon
        self.model = cp_model.CpModel()
        self.ops: list[_OpVars] = []
        self.by_key: dict[tuple[str, str], _OpVars] = {}
        self.arcs: dict[str, list[tuple[int, int, cp_model.IntVar]]] = {}
        self.arc_nodes: dict[str, list[_OpVars]] = {}
        self.setup_before: dict[tuple[str, str, str], cp_model.IntVar] = {}
        self.objective_exprs: dict[Objective, cp_model.LinearExprT] = {}
        self.tardiness: dict[str, cp_model.IntVar] = {}
        self.makespan: cp_model.IntVar | None = None
        self.pause_windows = pause_windows(problem)
        windowed = {w.machine for w in problem.unavailability if w.end > w.start}
        #: machines where setup + operation form a block that must dodge or pause across windows
        self.blocks_with_setups = {mc for (mc, _, _), v in problem.setups.items() if v > 0} & windowed
        self._variables()
        self._machine_constraints()
        self._precedences()
        if redundant_cumulative and any(len(o.machines) > 1 for o in self.ops):
            self._redundant_cumulative()
        self._objective_expressions()

    # -- variables ------------------------------------------------------------------------
    def _variables(self) -> None:
        m, p, h = self.model, self.problem, self.horizon
        fixed = p.fixed_by_key()
        for job in p.jobs:
            min_d = [min(o.duration for o in op.options) for op in job.operations]
            head = job.release
            for k, op in enumerate(job.operations):
                tail = sum(min_d[k + 1 :])
                key = (job.id, op.id)
                f = fixed.get(key)
                name = f"{job.id}/{op.id}"
                if f is not None:
                    start = m.new_constant(f.start)
                    end = m.new_constant(f.end)
                    itv = m.new_fixed_size_interval_var(f.start, f.end - f.start, f"{name}@fixed")
                    ov = _OpVars(
                        job,
                        op,
                        start,
                        end,
                        [f.machine],
                        [f.end - f.start],
                        [1],
                        [itv],
                        f.end,
                        (f.start, f.end),
                        max_elapsed=f.end - f.start,
                    )
                    head = f.end
                else:
                    lo, hi = head, max(head + min_d[k], h - tail)
                    start = m.new_int_var(lo, hi - min_d[k], f"s[{name}]")
                    end = m.new_int_var(lo + min_d[k], hi, f"e[{name}]")
                    ov = _OpVars(job, op, start, end, [], [], [], [], lo + min_d[k], None)
                    mandatory = len(op.options) == 1
                    for o in op.options:
                        lit: cp_model.IntVar | int = (
                            1 if mandatory else m.new_bool_var(f"x[{name},{o.machine}]")
                        )
                        ov.machines.append(o.machine)
                        ov.durations.append(o.duration)
                        ov.literals.append(lit)
                        self._option(ov, o.machine, o.duration, lit, lo, hi)
                    if not mandatory:
                        bools = [lit for lit in ov.literals if not isinstance(lit, int)]
                        m.add_exactly_one(bools)
                        m.add(
                            end
                            == start
                            + sum(
                                d * b + sum((w.end - w.start) * w.spans for w in ws)
                                for d, b, ws in zip(ov.durations, bools, ov.pauses, strict=True)
                            )
                        )
                    head += min_d[k]
                self.ops.append(ov)
                self.by_key[key] = ov

    def _option(
        self, ov: _OpVars, mc: str, duration: int, lit: cp_model.IntVar | int, lo: int, hi: int
    ) -> None:
        """The option's pause literals (windows it may meet, pruned by the bounds), its elapsed
        size and its interval."""
        m = self.model
        name = f"{ov.job.id}/{ov.op.id},{mc}"
        block = mc in self.blocks_with_setups
        block_lo = lo
        if block:
            into = max(
                (v for (sm, _, to), v in self.problem.setups.items() if sm == mc and to == ov.op.family),
                default=0,
            )
            block_lo = setup_start(self.pause_windows.get(mc, []), lo, into)
        xs = m.new_int_var(block_lo, hi, f"xs[{name}]") if block else None
        pauses: list[_Pause] = []
        for ws, we in self.pause_windows.get(mc, []):
            if we <= block_lo or ws >= hi:
                continue  # the bounds already put the option after or before the window
            b, sp, af = (m.new_bool_var(f"{tag}[{name},{ws}]") for tag in ("before", "spans", "after"))
            ins = m.new_bool_var(f"insetup[{name},{ws}]") if xs is not None else None
            m.add(ov.end <= ws).only_enforce_if(b)
            m.add(ov.start <= ws - 1).only_enforce_if(sp)
            m.add(ov.end >= we + 1).only_enforce_if(sp)
            m.add((ov.start if xs is None else xs) >= we).only_enforce_if(af)
            if ins is not None and xs is not None:
                m.add(xs <= ws - 1).only_enforce_if(ins)
                m.add(ov.start >= we).only_enforce_if(ins)
            m.add(sum(x for x in (b, sp, af, ins) if x is not None) == lit)
            pauses.append(_Pause(ws, we, b, sp, af, ins))
        extra = sum(w.end - w.start for w in pauses)
        size: cp_model.IntVar | int = duration
        if pauses:
            size = m.new_int_var(duration, duration + extra, f"size[{name}]")
            m.add(size == duration + sum((w.end - w.start) * w.spans for w in pauses))
        ov.pauses.append(pauses)
        ov.sizes.append(size)
        ov.block_starts.append(xs)
        ov.block_los.append(block_lo)
        ov.max_elapsed = max(ov.max_elapsed, duration + extra)
        if isinstance(lit, int):
            ov.intervals.append(m.new_interval_var(ov.start, size, ov.end, f"i[{name}]"))
        else:
            ov.intervals.append(m.new_optional_interval_var(ov.start, size, ov.end, lit, f"i[{name}]"))

    # -- constraints ----------------------------------------------------------------------
    def _machine_constraints(self) -> None:
        m, p = self.model, self.problem
        on_machine: dict[str, list[tuple[_OpVars, int]]] = defaultdict(list)
        for ov in self.ops:
            for k, mc in enumerate(ov.machines):
                on_machine[mc].append((ov, k))
        blocked: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for w in p.unavailability:
            if not w.pausable:
                blocked[w.machine].append((w.start, w.end))
        for ov in self.ops:
            if ov.span is not None:
                blocked[ov.machines[0]].append(ov.span)
        families_on = {mc for (mc, _, _), v in p.setups.items() if v > 0}
        for mc in p.machines:
            items = on_machine.get(mc, [])
            free_items = [(ov, k) for ov, k in items if not ov.fixed]
            blocks = [
                m.new_fixed_size_interval_var(s, e - s, f"blocked[{mc},{s}]") for s, e in _merge(blocked[mc])
            ]
            if mc in families_on and free_items:
                self._circuit(mc, items)
                if mc in self.blocks_with_setups:
                    ext = [self._extended_interval(mc, ov, k) for ov, k in free_items]
                    m.add_no_overlap(ext + blocks)
            m.add_no_overlap([ov.intervals[k] for ov, k in free_items] + blocks)

    def _circuit(self, mc: str, items: list[tuple[_OpVars, int]]) -> None:
        """Sequence the machine's operations with a circuit; arcs carry the setup times."""
        m, p = self.model, self.problem
        nodes = [ov for ov, _ in items]
        presence = [ov.literals[k] for ov, k in items]
        arcs: list[tuple[int, int, cp_model.IntVar]] = []
        empty = m.new_bool_var(f"empty[{mc}]")
        arcs.append((0, 0, empty))
        for i, lit in enumerate(presence, start=1):
            if isinstance(lit, int):
                m.add(empty == 0)
            else:
                arcs.append((i, i, ~lit))  # type: ignore[arg-type]
            arcs.append((0, i, m.new_bool_var(f"first[{mc},{i}]")))
            arcs.append((i, 0, m.new_bool_var(f"last[{mc},{i}]")))
        for i, a in enumerate(nodes, start=1):
            for j, b in enumerate(nodes, start=1):
                if i == j:
                    continue
                lit = m.new_bool_var(f"arc[{mc},{i},{j}]")
                arcs.append((i, j, lit))
                if a.span is not None and b.span is not None:
                    if a.span[1] > b.span[0]:
                        m.add(lit == 0)
                    continue
                setup = p.setup_time(mc, a.op.family, b.op.family)
                m.add(b.start >= a.end + setup).only_enforce_if(lit)
        m.add_circuit(arcs)
        self.arcs[mc] = arcs
        self.arc_nodes[mc] = nodes

    def _extended_interval(self, mc: str, ov: _OpVars, k: int) -> cp_model.IntervalVar:
        """The operation plus the setup just before it, for machines with setups and windows."""
        m, p = self.model, self.problem
        nodes = self.arc_nodes[mc]
        me = nodes.index(ov) + 1
        max_setup = max((p.setup_time(mc, o.op.family, ov.op.family) for o in nodes), default=0)
        setup = m.new_int_var(0, max_setup, f"setup[{ov.job.id}/{ov.op.id},{mc}]")
        for i, j, lit in self.arcs[mc]:
            if j != me or i == me:
                continue
            value = 0 if i == 0 else p.setup_time(mc, nodes[i - 1].op.family, ov.op.family)
            m.add(setup == value).only_enforce_if(lit)
        self.setup_before[(ov.job.id, ov.op.id, mc)] = setup
        start = ov.block_starts[k]
        assert start is not None
        pauses = ov.pauses[k]
        in_setup = sum((w.end - w.start) * w.in_setup for w in pauses if w.in_setup is not None)
        m.add(start == ov.start - setup - in_setup)
        size = m.new_int_var(ov.durations[k], max(ov.durations[k], self.horizon - ov.block_los[k]), "xsize")
        presence = ov.literals[k]
        if isinstance(presence, int):
            return m.new_interval_var(start, size, ov.end, f"x[{ov.job.id}/{ov.op.id}]")
        return m.new_optional_interval_var(start, size, ov.end, presence, f"x[{ov.job.id}/{ov.op.id},{mc}]")

    def _precedences(self) -> None:
        for job in self.problem.jobs:
            chain = [self.by_key[(job.id, op.id)] for op in job.operations]
            for a, b in itertools.pairwise(chain):
                if not (a.fixed and b.fixed):
                    self.model.add(b.start >= a.end)

    def _redundant_cumulative(self) -> None:
        """All operations together never use more machines than there are."""
        m = self.model
        intervals, demands = [], []
        for ov in self.ops:
            if ov.fixed:
                continue
            size = m.new_int_var(min(ov.durations), max(ov.max_elapsed, min(ov.durations)), "size")
            m.add(size == ov.end - ov.start)
            intervals.append(m.new_interval_var(ov.start, size, ov.end, "all"))
            demands.append(1)
        if intervals:
            m.add_cumulative(intervals, demands, len(self.problem.machines))

    # -- objective ------------------------------------------------------------------------
    def _objective_expressions(self) -> None:
        m, p = self.model, self.problem
        last = {job.id: self.by_key[(job.id, job.operations[-1].id)] for job in p.jobs if job.operations}
        if Objective.MAKESPAN in p.objective:
            lb = max([0] + [ov.end_lb for ov in self.ops])
            mk = m.new_int_var(lb, max(lb, self.horizon), "makespan")
            for ov in last.values():
                m.add(mk >= ov.end)
            self.makespan = mk
            self.objective_exprs[Objective.MAKESPAN] = mk
        if Objective.WEIGHTED_TARDINESS in p.objective:
            terms = []
            for job in p.jobs:
                if job.due is None or job.id not in last or job.weight == 0:
                    continue
                t = m.new_int_var(0, max(0, self.horizon - job.due), f"T[{job.id}]")
                m.add(t >= last[job.id].end - job.due)
                self.tardiness[job.id] = t
                terms.append(job.weight * t)
            self.objective_exprs[Objective.WEIGHTED_TARDINESS] = sum(terms) if terms else 0

    # -- hint and read back ---------------------------------------------------------------
    def hint(self, schedule: Sequence[Assignment]) -> None:
        m, p = self.model, self.problem
        placed = {(a.job, a.operation): a for a in schedule}
        for key, ov in self.by_key.items():
            a = placed[key]
            if ov.fixed:
                continue
            m.add_hint(ov.start, a.start)
            m.add_hint(ov.end, a.end)
            for mc, lit in zip(ov.machines, ov.literals, strict=True):
                if not isinstance(lit, int):
                    m.add_hint(lit, mc == a.machine)
        if self.makespan is not None:
            m.add_hint(self.makespan, max((a.end for a in schedule), default=0))
        completion: dict[str, int] = defaultdict(int)
        for a in schedule:
            completion[a.job] = max(completion[a.job], a.end)
        dues = {j.id: j.due for j in p.jobs}
        for jid, t in self.tardiness.items():
            due = dues[jid]
            m.add_hint(t, max(0, completion[jid] - (due or 0)))
        setup_values: dict[tuple[str, str, str], int] = {}
        for mc, arcs in self.arcs.items():
            nodes = self.arc_nodes[mc]
            index = {(ov.job.id, ov.op.id): i for i, ov in enumerate(nodes, start=1)}
            seq = sorted(
                (
                    placed[(ov.job.id, ov.op.id)]
                    for ov in nodes
                    if placed[(ov.job.id, ov.op.id)].machine == mc
                ),
                key=lambda a: (a.start, a.end),
            )
            order = [index[(a.job, a.operation)] for a in seq]
            used = set(zip([0, *order], [*order, 0], strict=True)) if order else {(0, 0)}
            for i, j, lit in arcs:
                if i == j and i != 0:
                    continue  # the negated presence, already hinted
                m.add_hint(lit, (i, j) in used)
            for (jid, oid, smc), var in self.setup_before.items():
                if smc != mc:
                    continue
                pos = next((n for n, a in enumerate(seq) if (a.job, a.operation) == (jid, oid)), None)
                value = 0
                if pos is not None and pos > 0:
                    prev = seq[pos - 1]
                    value = p.setup_time(
                        mc,
                        self.by_key[(prev.job, prev.operation)].op.family,
                        self.by_key[(jid, oid)].op.family,
                    )
                m.add_hint(var, value)
                setup_values[(jid, oid, smc)] = value
        # Pauses: where each option stands with respect to its machine's pausable windows.
        for key, ov in self.by_key.items():
            a = placed[key]
            if ov.fixed:
                continue
            for k, mc in enumerate(ov.machines):
                chosen = mc == a.machine
                setup = setup_values.get((*key, mc), 0)
                xs = (
                    setup_start(self.pause_windows.get(mc, []), a.start, setup) if chosen else a.start - setup
                )
                block_start = ov.block_starts[k]
                if block_start is not None:
                    m.add_hint(block_start, xs)
                size = ov.sizes[k]
                if not isinstance(size, int):
                    m.add_hint(size, a.end - a.start if chosen else ov.durations[k])
                for w in ov.pauses[k]:
                    before = chosen and a.end <= w.start
                    spans = chosen and a.start < w.start and a.end > w.end
                    in_setup = chosen and w.in_setup is not None and not spans and not before and xs < w.start
                    m.add_hint(w.before, before)
                    m.add_hint(w.spans, spans)
                    m.add_hint(w.after, chosen and not (before or spans or in_setup))
                    if w.in_setup is not None:
                        m.add_hint(w.in_setup, in_setup)

    def read(self, solver: cp_model.CpSolver) -> list[Assignment]:
        out = []
        for ov in self.ops:
            machine = ov.machines[0]
            for mc, lit in zip(ov.machines, ov.literals, strict=True):
                if isinstance(lit, int) or solver.boolean_value(lit):
                    machine = mc
                    break
            out.append(Assignment(ov.job.id, ov.op.id, machine, solver.value(ov.start), solver.value(ov.end)))
        return out


# --------------------------------------------------------------------------------------------
# Solve


class _ProgressReporter(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        on_progress: ProgressCallback | None,
        level: int,
        started: float,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self._on_progress = on_progress
        self._level = level
        self._started = started
        self._stop = stop
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._stop is not None and self._stop.is_set():
            self.stop_search()
        if self._on_progress is not None:
            self._on_progress(
                Progress(
                    objective=round(self.objective_value),
                    best_bound=math.ceil(self.best_objective_bound - 1e-6),
                    wall_time_s=time.monotonic() - self._started,
                    level=self._level,
                )
            )


def _key(problem: Problem, schedule: Sequence[Assignment]) -> tuple[int, ...]:
    return tuple(objective_value(problem, o, schedule) for o in problem.objective)


def _trivial_bound(problem: Problem, objective: Objective) -> int:
    if objective is Objective.WEIGHTED_TARDINESS:
        return 0
    fixed = problem.fixed_by_key()
    best = max([0] + [f.end for f in problem.fixed])
    for job in problem.jobs:
        t = job.release
        for op in job.operations:
            f = fixed.get((job.id, op.id))
            t = max(t, f.end) if f else t + min(o.duration for o in op.options)
        best = max(best, t)
    return best


def _within_horizon(problem: Problem, schedule: Sequence[Assignment]) -> bool:
    return problem.horizon is None or all(a.end <= problem.horizon for a in schedule)


def _stop_when_set(solver: cp_model.CpSolver, stop: threading.Event, done: threading.Event) -> None:
    """Watch ``stop`` while ``solver`` runs and stop its search (asynchronously) once it is set.

    ``StopSearch`` before the search has begun does nothing, so it is repeated until ``done``."""
    while not done.is_set():
        if stop.wait(0.05):
            solver.stop_search()
            done.wait(0.05)


def solve(
    problem: Problem,
    params: SolverParams | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """The best schedule found within ``params.time_limit_s``, with honest status, bound and gap.

    Setting ``stop`` (from any thread) ends the search within about 0.1 s: the answer is then the
    best schedule found so far, never claimed optimal unless it was proven before the stop, and
    ``stats["stopped"]`` is true. (The tardiness local search, when it runs, is not interrupted.)
    """
    params = params or SolverParams()
    started = time.monotonic()
    deadline = started + params.time_limit_s
    errors = structural_errors(problem)
    if errors:
        raise InvalidProblemError("; ".join(errors))
    stats: dict[str, float | int | str] = {}
    primary = problem.objective[0]

    # Heuristics: dispatching rules, then local search for single-machine tardiness.
    incumbent: list[Assignment] | None = best_dispatch(
        problem, restarts=params.dispatch_restarts, seed=params.seed
    )
    assert incumbent is not None
    if validate(problem, incumbent) or not _within_horizon(problem, incumbent):
        stats["dispatch"] = "infeasible"
        incumbent = None
    else:
        stats["dispatch_objective"] = objective_value(problem, primary, incumbent)
        if primary is Objective.WEIGHTED_TARDINESS:
            improved = improve_weighted_tardiness(
                problem,
                incumbent,
                time_limit_s=params.local_search_share * params.time_limit_s,
                seed=params.seed,
            )
            if not validate(problem, improved) and _key(problem, improved) < _key(problem, incumbent):
                incumbent = improved
            stats["local_search_objective"] = objective_value(problem, primary, incumbent)
    stats["heuristics_s"] = round(time.monotonic() - started, 3)

    if problem.horizon is not None:
        horizon = problem.horizon
    else:
        horizon = safe_horizon(problem)
        if incumbent is not None and primary is Objective.MAKESPAN:
            horizon = min(horizon, max((a.end for a in incumbent), default=0))
    stats["horizon"] = horizon

    primary_bound = _trivial_bound(problem, primary)
    proven = True
    infeasible = False
    kept: list[tuple[Objective, int]] = []
    for level, objective in enumerate(problem.objective):
        remaining = deadline - time.monotonic()
        levels_left = len(problem.objective) - level
        budget = remaining if levels_left == 1 else remaining * 0.7
        if budget < 0.05 or (stop is not None and stop.is_set()):
            proven = False
            break
        cm = _CpModel(problem, horizon, params.redundant_cumulative)
        for done, value in kept:
            cm.model.add(cm.objective_exprs[done] <= value)
        cm.model.minimize(cm.objective_exprs[objective])
        if incumbent is not None and params.use_hint:
            cm.hint(incumbent)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = params.num_workers
        solver.parameters.max_time_in_seconds = budget
        solver.parameters.random_seed = params.seed
        solver.parameters.log_search_progress = params.log_search_progress
        for name, raw in params.cp_sat_parameters.items():
            setattr(solver.parameters, name, raw)
        reporter = _ProgressReporter(on_progress, level, started, stop)
        if stop is None:
            cp_status = solver.solve(cm.model, reporter)
        else:
            searched = threading.Event()
            watcher = threading.Thread(
                target=_stop_when_set, args=(solver, stop, searched), name="cp-sat-stop", daemon=True
            )
            watcher.start()
            try:
                cp_status = solver.solve(cm.model, reporter)
            finally:
                searched.set()
                watcher.join()
        stats[f"level{level}_status"] = solver.status_name(cp_status)
        stats[f"level{level}_solutions"] = reporter.solutions
        stats[f"level{level}_conflicts"] = solver.num_conflicts
        stats[f"level{level}_wall_s"] = round(solver.wall_time, 3)
        if cp_status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"invalid CP-SAT model: {cm.model.validate()}")
        if cp_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = cm.read(solver)
            violations = validate(problem, found)
            if violations:  # never hand out a schedule the checker rejects
                stats[f"level{level}_rejected"] = violations[0].message
            elif incumbent is None or _key(problem, found) <= _key(problem, incumbent):
                incumbent = found
        if cp_status == cp_model.INFEASIBLE and incumbent is None and level == 0:
            infeasible = True
            break
        if incumbent is None:
            proven = False
            break
        value = objective_value(problem, objective, incumbent)
        bound = value if cp_status == cp_model.OPTIMAL else math.ceil(solver.best_objective_bound - 1e-6)
        if cp_status == cp_model.INFEASIBLE:  # contradicts a validated incumbent: claim nothing
            stats[f"level{level}_note"] = "infeasible despite a valid schedule"
            bound = 0
        if level == 0:
            primary_bound = max(primary_bound, min(bound, value))
        if bound < value:
            proven = False
        kept.append((objective, value))

    if stop is not None and stop.is_set():
        stats["stopped"] = True
    elapsed = time.monotonic() - started
    if incumbent is None:
        return Solution(
            assignments=(),
            status=Status.INFEASIBLE if infeasible else Status.UNKNOWN,
            wall_time_s=elapsed,
            stats=stats,
        )
    values = _key(problem, incumbent)
    primary_value = values[0]
    primary_bound = min(primary_bound, primary_value)
    complete = len(kept) == len(problem.objective)
    optimal = proven and complete and primary_bound == primary_value
    ordered = sorted(incumbent, key=lambda a: (a.start, a.machine, a.job, a.operation))
    return Solution(
        assignments=tuple(ordered),
        status=Status.OPTIMAL if optimal else Status.FEASIBLE,
        objective=primary_value,
        best_bound=primary_bound,
        gap=relative_gap(primary_value, primary_bound),
        objectives=values,
        wall_time_s=elapsed,
        stats=stats,
    )
