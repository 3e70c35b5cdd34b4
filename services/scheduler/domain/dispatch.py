"""Dispatching rules: a feasible schedule in milliseconds, used as warm start and as fallback.

``dispatch`` is a serial schedule generation in the Giffler–Thompson style: at each step it takes
the ready operation (next of each job) that can finish earliest on its best machine, forms the
conflict set of ready operations that could start before that finish, and lets the priority rule
choose among them; the chosen operation goes on the machine where it finishes earliest, after the
machine's previous dispatched operation, respecting setups, unavailability windows and fixed
assignments. On a machine with pausable windows it walks the machine's working time: the block
"setup + operation" starts at a working minute and ends after its working minutes, pausing across
the windows (``work_end``, ``setup_start``), exactly as the CP-SAT model and the validator count
them. Every schedule it returns satisfies the validator's rules.

``improve_single_machine_tardiness`` is an iterated local search (best-improvement insertion moves
evaluated for all pairs at once with numpy, random insertion kicks) for 1||Σ w·T.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from services.scheduler.domain.model import (
    Assignment,
    Job,
    Objective,
    Operation,
    Problem,
    objective_value,
)


class Rule(StrEnum):
    SPT = "spt"  # shortest processing time
    MWKR = "mwkr"  # most work remaining in the job
    EDD = "edd"  # earliest due date
    ATC = "atc"  # apparent tardiness cost (weighted, look-ahead on slack)
    FIFO = "fifo"  # earliest ready


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    family: str | None
    is_op: bool  # a fixed operation (setups apply) rather than a window


@dataclass(slots=True)
class _MachineState:
    free: int = 0
    last_family: str | None = None
    has_last: bool = False
    blocks: list[_Block] = field(default_factory=list)


def _setup(problem: Problem, machine: str, a: str | None, b: str | None) -> int:
    if a is None or b is None or not problem.setups:
        return 0
    return problem.setups.get((machine, a, b), 0)


def pause_windows(problem: Problem) -> dict[str, list[tuple[int, int]]]:
    """The pausable windows of each machine, merged and sorted."""
    raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for w in problem.unavailability:
        if w.pausable and w.end > w.start:
            raw[w.machine].append((w.start, w.end))
    out: dict[str, list[tuple[int, int]]] = {}
    for machine, spans in raw.items():
        merged: list[tuple[int, int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        out[machine] = merged
    return out


def _first(window: tuple[int, int]) -> int:
    return window[0]


def next_working(pauses: Sequence[tuple[int, int]], t: int) -> int:
    """``t``, or the end of the pausable window ``t`` falls in."""
    k = bisect.bisect_right(pauses, t, key=_first) - 1
    while 0 <= k < len(pauses) and pauses[k][0] <= t < pauses[k][1]:
        t = pauses[k][1]
        k += 1
    return t


def work_end(pauses: Sequence[tuple[int, int]], start: int, minutes: int) -> int:
    """The end of ``minutes`` working minutes from ``start`` (a working minute), pausing across
    the windows: the minute after the last one worked (``start`` if ``minutes`` is 0)."""
    t, k = start, bisect.bisect_right(pauses, start, key=_first)
    while k < len(pauses) and pauses[k][0] - t < minutes:
        minutes -= pauses[k][0] - t
        t = pauses[k][1]
        k += 1
    return t + minutes


def setup_start(pauses: Sequence[tuple[int, int]], start: int, minutes: int) -> int:
    """The first of the last ``minutes`` working minutes before ``start`` (``start`` if 0)."""
    t, k = start, bisect.bisect_left(pauses, start, key=_first) - 1
    while minutes > 0 and k >= 0:
        ws, we = pauses[k]
        if we < t:
            take = min(minutes, t - we)
            t -= take
            minutes -= take
            if minutes == 0:
                break
        t = min(t, ws)
        k -= 1
    return t - minutes


def _earliest_start(
    problem: Problem,
    machine: str,
    state: _MachineState,
    pauses: Sequence[tuple[int, int]],
    *,
    ready: int,
    duration: int,
    family: str | None,
) -> tuple[int, int]:
    """The earliest (start, end) after the machine's last dispatched operation that fits around
    blocks, pausing (with its setup) across the machine's pausable windows."""
    t = next_working(pauses, max(ready, state.free))
    for _ in range(10_000):
        # Predecessor: the dispatched tail or a fixed operation that ends by t, whichever is later.
        pred_end, pred_family, has_pred = state.free, state.last_family, state.has_last
        for b in state.blocks:
            if b.is_op and b.end <= t and (not has_pred or b.end >= pred_end):
                pred_end, pred_family, has_pred = b.end, b.family, True
        setup_in = _setup(problem, machine, pred_family, family) if has_pred else 0
        busy_from = setup_start(pauses, t, setup_in)
        if has_pred and busy_from < pred_end:
            first = next_working(pauses, pred_end)
            t = next_working(pauses, work_end(pauses, first, setup_in))
            continue
        end = work_end(pauses, t, duration)
        moved = False
        for b in state.blocks:
            if b.is_op:
                if b.end <= t:
                    continue
                setup_out = _setup(problem, machine, family, b.family)
                moved = b.start < end + setup_out
            else:
                moved = b.start < end and b.end > busy_from
            if moved:
                t = next_working(pauses, max(t + 1, b.end))
                break
        if not moved:
            return t, end
    raise RuntimeError("no start found on " + machine)  # pragma: no cover - bounded by blocks


def _priority(rule: Rule, job: Job, *, duration: int, remaining: int, t: int, mean_p: float) -> float:
    """Smaller is more urgent."""
    if rule is Rule.SPT:
        return duration
    if rule is Rule.MWKR:
        return -remaining
    if rule is Rule.EDD:
        return job.due if job.due is not None else math.inf
    if rule is Rule.ATC:
        if job.due is None:
            return -remaining / 1e9
        slack = max(0.0, job.due - t - remaining)
        return -(job.weight / max(duration, 1)) * math.exp(-slack / (2.0 * max(mean_p, 1e-9)))
    return t


def dispatch(
    problem: Problem, rule: Rule = Rule.MWKR, *, noise: float = 0.0, seed: int = 0
) -> list[Assignment]:
    """A feasible schedule built by ``rule``; ``noise`` > 0 randomises priorities (multi-start)."""
    rng = random.Random(seed)
    fixed = problem.fixed_by_key()
    states = {m: _MachineState() for m in problem.machines}
    for w in problem.unavailability:
        if w.end > w.start and not w.pausable:
            states[w.machine].blocks.append(_Block(w.start, w.end, None, False))
    pauses = pause_windows(problem)
    family_of = {(j.id, o.id): o.family for j in problem.jobs for o in j.operations}
    for f in problem.fixed:
        states[f.machine].blocks.append(_Block(f.start, f.end, family_of.get((f.job, f.operation)), True))

    def min_duration(op: Operation) -> int:
        return min(o.duration for o in op.options)

    remaining = {j.id: sum(min_duration(o) for o in j.operations) for j in problem.jobs}
    all_p = [min_duration(o) for j in problem.jobs for o in j.operations]
    mean_p = sum(all_p) / len(all_p) if all_p else 1.0
    next_index = {j.id: 0 for j in problem.jobs}
    ready = {j.id: j.release for j in problem.jobs}
    out: list[Assignment] = []

    def place_fixed_prefix(job: Job) -> None:
        while next_index[job.id] < len(job.operations):
            op = job.operations[next_index[job.id]]
            f = fixed.get((job.id, op.id))
            if f is None:
                return
            out.append(Assignment(job.id, op.id, f.machine, f.start, f.end))
            ready[job.id] = max(ready[job.id], f.end)
            remaining[job.id] -= min_duration(op)
            next_index[job.id] += 1

    for job in problem.jobs:
        place_fixed_prefix(job)

    cache: dict[str, tuple[int, int, str]] = {}
    watchers: dict[str, set[str]] = defaultdict(set)

    def evaluate(job: Job) -> tuple[int, int, str]:
        op = job.operations[next_index[job.id]]
        best: tuple[int, int, str] | None = None
        for option in op.options:
            s, e = _earliest_start(
                problem,
                option.machine,
                states[option.machine],
                pauses.get(option.machine, []),
                ready=ready[job.id],
                duration=option.duration,
                family=op.family,
            )
            cand = (e, s, option.machine)
            if best is None or cand < best:
                best = cand
        assert best is not None
        return best[1], best[0], best[2]

    active = [j for j in problem.jobs if next_index[j.id] < len(j.operations)]
    for job in active:
        for option in job.operations[next_index[job.id]].options:
            watchers[option.machine].add(job.id)
    while active:
        for job in active:
            if job.id not in cache:
                cache[job.id] = evaluate(job)
        min_finish = min(cache[j.id][1] for j in active)
        conflict = [j for j in active if cache[j.id][0] < min_finish] or [
            j for j in active if cache[j.id][1] == min_finish
        ]

        def key(j: Job) -> tuple[float, int, str]:
            start, finish, _ = cache[j.id]
            p = _priority(rule, j, duration=finish - start, remaining=remaining[j.id], t=start, mean_p=mean_p)
            if noise > 0.0:
                p = p * (1.0 + noise * (rng.random() - 0.5)) + noise * rng.random()
            return (p, finish, j.id)

        chosen = min(conflict, key=key)
        op = chosen.operations[next_index[chosen.id]]
        start, finish, machine = cache.pop(chosen.id)
        out.append(Assignment(chosen.id, op.id, machine, start, finish))
        st = states[machine]
        st.free, st.last_family, st.has_last = finish, op.family, True
        ready[chosen.id] = finish
        remaining[chosen.id] -= min_duration(op)
        for option in op.options:
            watchers[option.machine].discard(chosen.id)
        next_index[chosen.id] += 1
        place_fixed_prefix(chosen)
        for jid in list(watchers[machine]):
            cache.pop(jid, None)
        if next_index[chosen.id] < len(chosen.operations):
            for option in chosen.operations[next_index[chosen.id]].options:
                watchers[option.machine].add(chosen.id)
        else:
            active = [j for j in active if j.id != chosen.id]
    return out


def best_dispatch(
    problem: Problem, rules: Iterable[Rule] = tuple(Rule), *, restarts: int = 0, seed: int = 0
) -> list[Assignment]:
    """The best schedule (lexicographic on the problem's objectives) among the rules, plus
    ``restarts`` randomised runs of the rules that did best."""
    best: list[Assignment] | None = None
    best_key: tuple[int, ...] | None = None
    best_rule = Rule.MWKR

    def consider(schedule: list[Assignment], rule: Rule) -> None:
        nonlocal best, best_key, best_rule
        k = tuple(objective_value(problem, o, schedule) for o in problem.objective)
        if best_key is None or k < best_key:
            best, best_key, best_rule = schedule, k, rule

    for rule in rules:
        consider(dispatch(problem, rule), rule)
    for r in range(restarts):
        consider(dispatch(problem, best_rule, noise=0.3, seed=seed + r), best_rule)
    assert best is not None
    return best


# --------------------------------------------------------------------------------------------
# Single-machine total weighted tardiness: iterated local search on the sequence.


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _total_wt(seq: IntArray, p: FloatArray, w: FloatArray, d: FloatArray, t0: float) -> float:
    c = t0 + np.cumsum(p[seq])
    return float(np.sum(w[seq] * np.maximum(0.0, c - d[seq])))


def _best_insertion(
    seq: IntArray, p: FloatArray, w: FloatArray, d: FloatArray, t0: float
) -> tuple[float, int, int]:
    """The best move "take the job at position i, put it at position j", as (delta, i, j)."""
    n = len(seq)
    pp, ww, dd = p[seq], w[seq], d[seq]
    c = t0 + np.cumsum(pp)
    tard = np.maximum(0.0, c - dd)
    base = ww * tard
    start = c - pp
    # Forward (j > i): jobs i+1..j finish P[i] earlier, the moved job finishes at C[j].
    a = ww[None, :] * np.maximum(0.0, c[None, :] - pp[:, None] - dd[None, :]) - base[None, :]
    a = np.cumsum(np.triu(a, 1), axis=1)
    fwd = ww[:, None] * np.maximum(0.0, c[None, :] - dd[:, None]) - base[:, None] + a
    # Backward (j < i): jobs j..i-1 finish P[i] later, the moved job finishes at start[j] + P[i].
    b = ww[None, :] * np.maximum(0.0, c[None, :] + pp[:, None] - dd[None, :]) - base[None, :]
    b = np.tril(b, -1)
    b = np.cumsum(b[:, ::-1], axis=1)[:, ::-1]
    bwd = ww[:, None] * np.maximum(0.0, start[None, :] + pp[:, None] - dd[:, None]) - base[:, None] + b
    idx = np.arange(n)
    delta = np.where(idx[None, :] > idx[:, None], fwd, np.where(idx[None, :] < idx[:, None], bwd, 0.0))
    flat = int(np.argmin(delta))
    i, j = divmod(flat, n)
    return float(delta[i, j]), i, j


def _move(seq: IntArray, i: int, j: int) -> IntArray:
    x = seq[i]
    return np.insert(np.delete(seq, i), j, x)


def _descend(seq: IntArray, p: FloatArray, w: FloatArray, d: FloatArray, t0: float) -> IntArray:
    while len(seq) > 1:
        delta, i, j = _best_insertion(seq, p, w, d, t0)
        if delta >= -1e-9:
            break
        seq = _move(seq, i, j)
    return seq


def improve_single_machine_tardiness(
    durations: Sequence[int],
    weights: Sequence[int],
    dues: Sequence[int],
    order: Sequence[int],
    *,
    start: int = 0,
    time_limit_s: float = 1.0,
    max_rounds: int = 1_000_000,
    seed: int = 0,
) -> list[int]:
    """A better job order for one machine, no idle time, from ``start``: ILS with insertion moves."""
    n = len(order)
    if n <= 1:
        return list(order)
    rng = np.random.default_rng(seed)
    p = np.asarray(durations, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    d = np.asarray(dues, dtype=np.float64)
    t0 = float(start)
    deadline = time.monotonic() + time_limit_s
    current = _descend(np.asarray(order, dtype=np.int64), p, w, d, t0)
    current_value = _total_wt(current, p, w, d, t0)
    best, best_value = current.copy(), current_value
    since_best = 0
    for _ in range(max_rounds):
        if best_value <= 0 or time.monotonic() >= deadline:
            break
        candidate = current.copy()
        for _ in range(int(rng.integers(2, 5))):
            i, j = (int(x) for x in rng.integers(0, n, size=2))
            candidate = _move(candidate, i, j)
        candidate = _descend(candidate, p, w, d, t0)
        value = _total_wt(candidate, p, w, d, t0)
        if value <= current_value:
            current, current_value = candidate, value
        if value < best_value - 1e-9:
            best, best_value, since_best = candidate.copy(), value, 0
        else:
            since_best += 1
            if since_best > 4 * n:  # stagnation: restart from the best with a bigger kick
                current = best.copy()
                for _ in range(n // 10 + 2):
                    i, j = (int(x) for x in rng.integers(0, n, size=2))
                    current = _move(current, i, j)
                current = _descend(current, p, w, d, t0)
                current_value = _total_wt(current, p, w, d, t0)
                since_best = 0
    return [int(x) for x in best]


def improve_weighted_tardiness(
    problem: Problem, schedule: Sequence[Assignment], *, time_limit_s: float = 1.0, seed: int = 0
) -> list[Assignment]:
    """Improve a schedule's Σ w·T by local search on each machine, where that is exact.

    Applies to machines whose jobs all have one operation with one option, no setups, windows or
    fixed work, and equal releases (a sequence then fixes the schedule, without idle time). Other
    machines keep their schedule. Returns the input when nothing applies.
    """
    if Objective.WEIGHTED_TARDINESS not in problem.objective or problem.fixed or problem.setups:
        return list(schedule)
    blocked = {w.machine for w in problem.unavailability if w.end > w.start}
    jobs = {j.id: j for j in problem.jobs}
    per_machine: dict[str, list[Job]] = defaultdict(list)
    for j in problem.jobs:
        if len(j.operations) != 1 or len(j.operations[0].options) != 1:
            return list(schedule)
        per_machine[j.operations[0].options[0].machine].append(j)
    eligible = {
        m: js
        for m, js in per_machine.items()
        if m not in blocked and len({j.release for j in js}) == 1 and len(js) > 1
    }
    if not eligible:
        return list(schedule)
    out = [a for a in schedule if jobs[a.job].operations[0].options[0].machine not in eligible]
    budget = time_limit_s / len(eligible)
    for machine, js in eligible.items():
        position = {a.job: a.start for a in schedule}
        js_sorted = sorted(js, key=lambda j: position.get(j.id, 0))
        p = [j.operations[0].options[0].duration for j in js_sorted]
        w = [j.weight for j in js_sorted]
        d = [j.due if j.due is not None else 10**12 for j in js_sorted]
        t = js_sorted[0].release
        order = improve_single_machine_tardiness(
            p, w, d, list(range(len(js_sorted))), start=t, time_limit_s=budget, seed=seed
        )
        for k in order:
            j = js_sorted[k]
            out.append(Assignment(j.id, j.operations[0].id, machine, t, t + p[k]))
            t += p[k]
    return out
