"""The MRP netting engine: regenerative runs and net change (PLANNING-SEMANTICS.md, "MRP netting").

Items are planned level by level (low-level code 0 first). Planning an item walks only the dates
that carry an event (today, a gross requirement or a scheduled receipt); release-only dates get a
record row afterwards. Quantities are micro-unit integers (see :mod:`services.mrp.domain.model`).

Rules implemented (the handbook's, plus the choices written here where it is silent):

Dates
  * The horizon is ``[today, today + horizon_days)``. A requirement or receipt counts on
    ``max(today, prev_working(date))``; one dated on or after the horizon's end (its own date,
    before any move) is ignored, including a firm parent order released at or after the end.
  * A planned order found short on walk date ``d`` is due ``prev_working(d)`` (this differs from
    ``d`` only when today is not a working day) and released ``back(due, lead_time_days)``.
    Its quantity shows in the record's planned-receipts column on ``d``, where it counts.

Gross requirements
  * Open sales-order lines (quantity > 0) at their due date.
  * Forecast buckets ``[start, next start)`` (the last one open-ended; several entries with the
    same start are added up): ``max(0, forecast − sales orders of the sku due in the bucket)``
    at ``max(start, today)``. Orders consume by their real due date, even a late one or one beyond
    the horizon. *Choice:* a bucket that ended on or before today has expired and is ignored.
  * Dependent demand: for each parent order (this run's planned orders, and the snapshot's
    ``firm`` parent orders) of quantity ``Q`` released at ``r`` and each BOM line with
    ``valid_from ≤ r < valid_to``: ``round6(Q × qty_per / (1 − scrap_pct/100))`` at ``r``
    (moved as any requirement). BOM lines are exploded whatever the parent's kind (make or buy).
  * Phantoms pass their net requirement of date ``d`` to their components at ``d``, with
    effectivity evaluated at ``d``; the phantom's lead time, lot sizing and safety stock are not
    used (a phantom's safety stock counts as 0). Phantoms net stock and scheduled receipts.

Netting
  * ``PAB(d) = PAB(previous) + receipts(d) − gross(d)``; when ``PAB(d) < safety_stock`` the net
    requirement ``safety_stock − PAB(d)`` is lot-sized into planned orders due ``d``. Today is
    always walked, so a starting stock below safety stock gets an order due today.
  * Scheduled receipts are orders in status firm, released or in progress (others are ignored).
    Parent orders generate dependent demand only in status ``firm`` (firm planned).

Record rows
  * One row per walked date (today, and every date with a gross requirement or a receipt) and
    per planned-release date. A release-only row shows the projected available of the last walked
    date on or before it, or the starting available when it lies before today.

Pegging (first come, first served by date)
  * Supply in order: starting available, then per date the scheduled receipts, then the planned
    orders (in split order). Demand in order: a negative starting available (not reported), the
    safety stock (reported as a ``safety_stock`` peg), then the requirements by (date, sales
    order < forecast < parent order < phantom, original date, reference, line). Each demand takes
    the next units of supply; a planned order lists the demands its units went to. Units left
    over (lot excess) are not pegged.

Actions
  * ``release``: planned order with ``today ≤ release ≤ today + release_window_days``
    (calendar days); ``past_due``: planned order with release before today, or scheduled receipt
    with due date before today (its other actions are still given).
  * Receipt messages: take the receipts by (counting date, due date, order id); receipt ``i`` is
    *needed* on the first date ``t`` (today or a date with gross requirement) where
    ``starting available + Σ quantities of the receipts before i − cumulated gross(t)`` falls
    below safety stock. Needed before its counting date → ``reschedule_in`` to ``t``; after it →
    ``reschedule_out`` to ``t``; never within the horizon → ``cancel``.

Ids: a planned order's id is ``"{sku}@{due ISO}#{n}"`` (``n`` = 1.. for the pieces of a max
split), so ids depend only on the plan, which makes net change and regenerative runs comparable.

Net change: :func:`net_change` re-plans ``changed_skus`` (every sku whose own inputs changed: item
master, stock, receipts, sales orders, forecast, its BOM as a parent, its firm parent orders),
items added to or removed from the snapshot, and all their components recursively (through the
current BOM and the previous run's BOM). Other items keep their previous plan; their planned
orders feed dependent demand to re-planned components. The result equals a regenerative run.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from types import MappingProxyType

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.lot_sizing import LotPolicy, eoq_quantity, size_lot
from services.mrp.domain.model import (
    RECEIPT_STATUSES,
    Item,
    ItemKind,
    LotRule,
    OrderStatus,
    Snapshot,
    from_micro,
    round_half_even_div,
    to_micro,
)
from services.mrp.domain.result import (
    Action,
    ActionKind,
    ItemPlan,
    ItemRecord,
    MrpResult,
    Peg,
    PegKind,
    PlannedOrder,
    RawRow,
)

# Requirement: (counting ordinal, rank, original ordinal, reference, line, parent sku, qty)
_Req = tuple[int, int, int, str, int, str, int]
_RANK_SALES, _RANK_FORECAST, _RANK_PARENT, _RANK_PHANTOM, _RANK_SAFETY, _RANK_NONE = 0, 1, 2, 3, 4, 5
_PEG_KIND = (
    PegKind.SALES_ORDER,
    PegKind.FORECAST,
    PegKind.PARENT_ORDER,
    PegKind.PHANTOM,
    PegKind.SAFETY_STOCK,
)
# BOM line: (component, numerator, denominator, valid_from ordinal, valid_to ordinal)
_Line = tuple[str, int, int, int, int]
# Source of dependent demand: (reference, date ordinal, quantity)
_Source = tuple[str, int, int]
_NO_DATE_LOW, _NO_DATE_HIGH = 0, 10**7


@dataclass(slots=True)
class _ItemInput:
    item: Item
    llc: int
    safety: int
    stock: int
    policy: LotPolicy
    receipts: list[tuple[int, int, str, int]]  # (counting ord, due ord, order id, qty), sorted
    static_reqs: list[_Req]  # sales orders and net forecast


@dataclass(slots=True)
class _Context:
    snapshot: Snapshot
    calendar: Calendar
    today: int
    end: int
    inputs: dict[str, _ItemInput]
    children: dict[str, list[_Line]]
    parents: dict[str, list[str]]
    firm_parent_orders: dict[str, list[_Source]]
    count_cache: dict[int, int]

    def counting_date(self, o: int) -> int:
        """``max(today, prev_working(o))``, memoised."""
        c = self.count_cache.get(o)
        if c is None:
            c = self.today if o <= self.today else max(self.today, self.calendar.prev_working_ord(o))
            self.count_cache[o] = c
        return c


@dataclass(slots=True)
class _Planned:
    plan: ItemPlan
    sources: list[_Source]  # what the item passes to its components
    rank: int


# ----------------------------------------------------------------------------------------------
# Preparation
# ----------------------------------------------------------------------------------------------


def low_level_codes(skus: Iterable[str], edges: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Deepest level at which each sku appears in any BOM (0 = no parent); a cycle is an error.

    ``edges`` maps a parent to its components. Longest-path layering in topological order.
    """
    level = dict.fromkeys(skus, 0)
    indegree = dict.fromkeys(level, 0)
    for parent, comps in edges.items():
        for c in set(comps):
            indegree[c] = indegree.get(c, 0) + 1
            level.setdefault(c, 0)
            indegree.setdefault(parent, 0)
    queue = [s for s, n in indegree.items() if n == 0]
    seen = 0
    while queue:
        parent = queue.pop()
        seen += 1
        for c in set(edges.get(parent, ())):
            level[c] = max(level[c], level[parent] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    if seen != len(indegree):
        raise ValueError("the bill of materials has a cycle")
    return level


def _prepare(snapshot: Snapshot) -> _Context:
    params = snapshot.parameters
    cal = snapshot.calendar
    today = params.today.toordinal()
    end = today + params.horizon_days
    items = {it.sku: it for it in snapshot.items}
    if len(items) != len(snapshot.items):
        raise ValueError("duplicate sku in the snapshot's items")

    def known(sku: str, what: str) -> None:
        if sku not in items:
            raise ValueError(f"{what} names unknown sku {sku!r}")

    children: dict[str, list[_Line]] = defaultdict(list)
    parents_set: dict[str, set[str]] = defaultdict(set)
    for line in snapshot.bom:
        known(line.parent, "a BOM line")
        known(line.component, "a BOM line")
        if line.qty_per < 0 or not (0 <= line.scrap_pct < 100):
            raise ValueError(f"BOM line {line.parent}->{line.component}: bad qty_per or scrap_pct")
        factor = Fraction(line.qty_per) * 100 / (100 - Fraction(line.scrap_pct))
        vf = line.valid_from.toordinal() if line.valid_from else _NO_DATE_LOW
        vt = line.valid_to.toordinal() if line.valid_to else _NO_DATE_HIGH
        children[line.parent].append((line.component, factor.numerator, factor.denominator, vf, vt))
        parents_set[line.component].add(line.parent)
    for lines in children.values():
        lines.sort()

    edges = {p: [c for c, *_ in lines] for p, lines in children.items()}
    given = [it.low_level_code for it in snapshot.items]
    if all(g is not None for g in given) and all(
        (items[p].low_level_code or 0) < (items[c].low_level_code or 0)
        for p, comps in edges.items()
        for c in comps
    ):
        llc = {s: it.low_level_code or 0 for s, it in items.items()}
    else:
        llc = low_level_codes(items, edges)

    ctx = _Context(
        snapshot=snapshot,
        calendar=cal,
        today=today,
        end=end,
        inputs={},
        children=dict(children),
        parents={c: sorted(ps) for c, ps in parents_set.items()},
        firm_parent_orders=defaultdict(list),
        count_cache={},
    )

    receipts: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    for r in snapshot.receipts:
        known(r.sku, "a scheduled receipt")
        q = to_micro(r.quantity, f"receipt {r.order_id} quantity")
        if q < 0:
            raise ValueError(f"receipt {r.order_id} has a negative quantity")
        o = r.due_date.toordinal()
        if OrderStatus(r.status) in RECEIPT_STATUSES and q > 0 and o < end:
            receipts[r.sku].append((ctx.counting_date(o), o, r.order_id, q))

    sales: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)  # (due, id, line, qty)
    for so in snapshot.sales_orders:
        known(so.sku, "a sales-order line")
        q = to_micro(so.quantity, f"sales order {so.order_id} quantity")
        if q < 0:
            raise ValueError(f"sales order {so.order_id} line {so.line} has a negative quantity")
        if q > 0:
            sales[so.sku].append((so.due_date.toordinal(), so.order_id, so.line, q))

    forecasts: dict[str, dict[int, int]] = defaultdict(dict)
    for fc in snapshot.forecasts:
        known(fc.sku, "a forecast")
        q = to_micro(fc.quantity, f"forecast {fc.sku} quantity")
        if q < 0:
            raise ValueError(f"forecast {fc.sku} {fc.start} has a negative quantity")
        buckets = forecasts[fc.sku]
        s = fc.start.toordinal()
        buckets[s] = buckets.get(s, 0) + q

    for po in snapshot.parent_orders:
        known(po.sku, "a parent order")
        q = to_micro(po.quantity, f"order {po.order_id} quantity")
        if OrderStatus(po.status) is OrderStatus.FIRM and q > 0:
            ctx.firm_parent_orders[po.sku].append((po.order_id, po.release_date.toordinal(), q))

    for sku, it in items.items():
        if it.lead_time_days < 0:
            raise ValueError(f"{sku}: lead time must not be negative")
        stock = to_micro(snapshot.stock.get(sku, 0), f"{sku} stock")
        safety = 0 if it.phantom else to_micro(it.safety_stock, f"{sku} safety stock")
        if safety < 0:
            raise ValueError(f"{sku}: safety stock must not be negative")
        reqs: list[_Req] = []
        so_lines = sorted(sales.get(sku, ()))
        for due, oid, line_no, q in so_lines:
            if due < end:
                reqs.append((ctx.counting_date(due), _RANK_SALES, due, oid, line_no, "", q))
        reqs.extend(_net_forecast(ctx, forecasts.get(sku, {}), so_lines))
        rec = receipts.get(sku, [])
        rec.sort()
        ctx.inputs[sku] = _ItemInput(
            item=it,
            llc=llc[sku],
            safety=safety,
            stock=stock,
            policy=LotPolicy.from_lot_sizing(it.lot_sizing, sku),
            receipts=rec,
            static_reqs=reqs,
        )
    return ctx


def _net_forecast(
    ctx: _Context, buckets: Mapping[int, int], so_lines: list[tuple[int, str, int, int]]
) -> list[_Req]:
    """Forecast consumed by orders, bucket by bucket (see the module rules)."""
    starts = sorted(buckets)
    dues = [d for d, *_ in so_lines]  # sorted
    cum = [0]
    for *_, q in so_lines:
        cum.append(cum[-1] + q)
    reqs: list[_Req] = []
    for i, start in enumerate(starts):
        if start >= ctx.end:
            break
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        if nxt is not None and nxt <= ctx.today:
            continue  # expired bucket
        lo = bisect_right(dues, start - 1)
        hi = len(dues) if nxt is None else bisect_right(dues, nxt - 1)
        net = buckets[start] - (cum[hi] - cum[lo])
        if net > 0:
            at = max(start, ctx.today)
            reqs.append(
                (
                    ctx.counting_date(at),
                    _RANK_FORECAST,
                    start,
                    date.fromordinal(start).isoformat(),
                    0,
                    "",
                    net,
                )
            )
    return reqs


# ----------------------------------------------------------------------------------------------
# Explosion and planning of one item
# ----------------------------------------------------------------------------------------------


def _explode(
    ctx: _Context,
    parent: str,
    *,
    sources: list[_Source],
    rank: int,
    reqs: dict[str, list[_Req]],
    targets: set[str] | None,
) -> None:
    """Dependent demand of ``parent``'s orders (or phantom net requirements) on its components."""
    lines = ctx.children.get(parent)
    if not lines or not sources:
        return
    end = ctx.end
    for comp, num, den, vf, vt in lines:
        if targets is not None and comp not in targets:
            continue
        bucket = reqs.setdefault(comp, [])
        for ref, r, qty in sources:
            if r < vf or r >= vt or r >= end:
                continue
            dep = qty * num if den == 1 else round_half_even_div(qty * num, den)
            if dep > 0:
                bucket.append((ctx.counting_date(r), rank, r, ref, 0, parent, dep))


def _plan_item(ctx: _Context, sku: str, reqs: list[_Req]) -> _Planned:
    """Net one item: walk its event dates, size planned orders, peg, and advise."""
    inp = ctx.inputs[sku]
    item = inp.item
    cal = ctx.calendar
    today = ctx.today
    safety = inp.safety
    stock = inp.stock
    phantom = item.phantom
    reqs.sort()

    gross: dict[int, int] = {}
    for r in reqs:
        gross[r[0]] = gross.get(r[0], 0) + r[6]
    receipts_at: dict[int, int] = {}
    for c, _due, _oid, q in inp.receipts:
        receipts_at[c] = receipts_at.get(c, 0) + q
    dates = sorted(gross.keys() | receipts_at.keys() | {today})

    policy = inp.policy
    if policy.rule is LotRule.EOQ:
        params = ctx.snapshot.parameters
        eoq = eoq_quantity(
            sum(gross.values()),
            params.horizon_days,
            params.order_cost,
            params.holding_rate,
            item.standard_cost,
        )
        policy = replace(policy, quantity=eoq)
    is_period = policy.rule is LotRule.PERIOD

    rows: dict[int, list[int]] = {}
    orders: list[tuple[int, int, int, int, int]] = []  # (walk date, due, release, n, qty)
    phantom_net: list[_Source] = []
    pab = stock
    n_dates = len(dates)
    for i, d in enumerate(dates):
        g = gross.get(d, 0)
        sr = receipts_at.get(d, 0)
        p = pab + sr - g
        net = 0
        prc = 0
        if p < safety:
            net = safety - p
            if phantom:
                phantom_net.append((sku, d, net))
                p = safety
            else:
                window = None
                if is_period:
                    window_end = cal.forward_ord(d, policy.periods)
                    window = net
                    q = p
                    j = i + 1
                    while j < n_dates and dates[j] < window_end:
                        q += receipts_at.get(dates[j], 0) - gross.get(dates[j], 0)
                        window = max(window, safety - q)
                        j += 1
                due = cal.prev_working_ord(d)
                release = cal.back_ord(due, item.lead_time_days)
                for k, q in enumerate(size_lot(policy, net, window), start=1):
                    orders.append((d, due, release, k, q))
                    prc += q
                p += prc
        rows[d] = [g, sr, p, net, prc, 0]
        pab = p

    # Release rows.
    pabs = [rows[d][2] for d in dates]
    for _d, _due, release, _k, q in orders:
        row = rows.get(release)
        if row is None:
            at = stock if release < today else pabs[bisect_right(dates, release) - 1]
            row = rows[release] = [0, 0, at, 0, 0, 0]
        row[5] += q
    raw_rows: tuple[RawRow, ...] = tuple(
        (o, r[0], r[1], r[2], r[3], r[4], r[5]) for o, r in sorted(rows.items())
    )

    pegs = (
        []
        if phantom
        else _peg(inp, reqs=reqs, dates=dates, receipts_at=receipts_at, orders=orders, today=today)
    )
    kind = ItemKind(item.kind)
    planned: list[PlannedOrder] = []
    for (_d, due, release, k, q), order_pegs in zip(orders, pegs, strict=False):
        due_date = date.fromordinal(due)
        planned.append(
            PlannedOrder(
                id=f"{sku}@{due_date.isoformat()}#{k}",
                sku=sku,
                kind=kind,
                quantity=from_micro(q),
                release_date=date.fromordinal(release),
                due_date=due_date,
                pegging=tuple(order_pegs),
            )
        )
    actions = _actions(ctx, inp, gross, planned, orders)
    record = ItemRecord(sku, inp.llc, stock, safety, raw_rows)
    components = tuple(sorted({c for c, *_ in ctx.children.get(sku, ())}))
    plan = ItemPlan(record, tuple(planned), actions, components)
    if phantom:
        return _Planned(plan, phantom_net, _RANK_PHANTOM)
    sources = [(po.id, release, q) for po, (_d, _due, release, _k, q) in zip(planned, orders, strict=True)]
    return _Planned(plan, sources, _RANK_PARENT)


def _peg(
    inp: _ItemInput,
    *,
    reqs: list[_Req],
    dates: list[int],
    receipts_at: Mapping[int, int],
    orders: list[tuple[int, int, int, int, int]],
    today: int,
) -> list[list[Peg]]:
    """First come, first served pegging of requirements to planned orders (module rules)."""
    pegs: list[list[Peg]] = [[] for _ in orders]
    if not orders:
        return pegs
    supply: list[tuple[int, int]] = []  # (qty, order index or -1)
    if inp.stock > 0:
        supply.append((inp.stock, -1))
    k = 0
    for d in dates:
        sr = receipts_at.get(d, 0)
        if sr:
            supply.append((sr, -1))
        while k < len(orders) and orders[k][0] == d:
            supply.append((orders[k][4], k))
            k += 1
    si = 0
    left = supply[0][0]
    n_supply = len(supply)
    demands: list[_Req] = []
    if inp.stock < 0:
        demands.append((today, _RANK_NONE, today, "", 0, "", -inp.stock))
    if inp.safety > 0:
        demands.append((today, _RANK_SAFETY, today, "", 0, "", inp.safety))
    demands.extend(reqs)
    for demand in demands:
        qty = demand[6]
        rank = demand[1]
        while qty > 0 and si < n_supply:
            take = min(qty, left)
            idx = supply[si][1]
            if idx >= 0 and rank != _RANK_NONE:
                pegs[idx].append(_make_peg(demand, take))
            qty -= take
            left -= take
            if left == 0:
                si += 1
                if si < n_supply:
                    left = supply[si][0]
        if si >= n_supply:
            break
    return pegs


def _make_peg(demand: _Req, qty: int) -> Peg:
    c, rank, _orig, ref, line, parent, _q = demand
    return Peg(
        kind=_PEG_KIND[rank],
        reference=ref,
        line=line if rank == _RANK_SALES else None,
        parent_sku=parent or None,
        date=date.fromordinal(c),
        quantity=from_micro(qty),
    )


def _actions(
    ctx: _Context,
    inp: _ItemInput,
    gross: Mapping[int, int],
    planned: list[PlannedOrder],
    orders: list[tuple[int, int, int, int, int]],
) -> tuple[Action, ...]:
    """Release / past-due advice on planned orders and receipt messages (module rules)."""
    today = ctx.today
    window_end = today + ctx.snapshot.parameters.release_window_days
    sku = inp.item.sku
    out: list[tuple[int, int, str, Action]] = []
    for po, (_d, _due, release, _k, _q) in zip(planned, orders, strict=True):
        if release < today:
            out.append(
                (release, 1, po.id, Action(ActionKind.PAST_DUE, sku, po.id, po.quantity, po.release_date))
            )
        elif release <= window_end:
            out.append(
                (release, 0, po.id, Action(ActionKind.RELEASE, sku, po.id, po.quantity, po.release_date))
            )
    if inp.receipts:
        checkpoints = sorted(gross.keys() | {today})
        cum: list[int] = []
        total = 0
        for t in checkpoints:
            total += gross.get(t, 0)
            cum.append(total)
        base = inp.stock
        j = 0
        for counting, due, oid, q in inp.receipts:
            while j < len(checkpoints) and base - cum[j] >= inp.safety:
                j += 1
            qty = from_micro(q)
            due_date = date.fromordinal(due)
            if due < today:
                out.append((due, 1, oid, Action(ActionKind.PAST_DUE, sku, oid, qty, due_date)))
            if j == len(checkpoints):
                out.append((due, 4, oid, Action(ActionKind.CANCEL, sku, oid, qty, due_date)))
            elif checkpoints[j] < counting:
                new = date.fromordinal(checkpoints[j])
                out.append((due, 2, oid, Action(ActionKind.RESCHEDULE_IN, sku, oid, qty, due_date, new)))
            elif checkpoints[j] > counting:
                new = date.fromordinal(checkpoints[j])
                out.append((due, 3, oid, Action(ActionKind.RESCHEDULE_OUT, sku, oid, qty, due_date, new)))
            base += q
    out.sort(key=lambda x: (x[0], x[1], x[2]))
    return tuple(a for *_, a in out)


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------


def _levels(ctx: _Context, skus: Iterable[str]) -> dict[int, list[str]]:
    levels: dict[int, list[str]] = defaultdict(list)
    for s in skus:
        levels[ctx.inputs[s].llc].append(s)
    for group in levels.values():
        group.sort()
    return dict(sorted(levels.items()))


def _plan_levels(
    ctx: _Context,
    skus: Iterable[str],
    reqs: dict[str, list[_Req]],
    targets: set[str] | None,
    timings: dict[int, float],
) -> dict[str, ItemPlan]:
    plans: dict[str, ItemPlan] = {}
    for level, group in _levels(ctx, skus).items():
        started = time.perf_counter()
        for sku in group:
            item_reqs = reqs.pop(sku, [])
            item_reqs.extend(ctx.inputs[sku].static_reqs)
            planned = _plan_item(ctx, sku, item_reqs)
            plans[sku] = planned.plan
            _explode(ctx, sku, sources=planned.sources, rank=planned.rank, reqs=reqs, targets=targets)
        timings[level] = time.perf_counter() - started
    return plans


def _result(
    snapshot: Snapshot, plans: Mapping[str, ItemPlan], timings: dict[int, float], n: int
) -> MrpResult:
    ordered = dict(sorted(plans.items()))
    orders = tuple(po for plan in ordered.values() for po in plan.planned_orders)
    actions = tuple(a for plan in ordered.values() for a in plan.actions)
    counts = {"items": len(ordered), "planned_orders": len(orders), "actions": len(actions)}
    for kind in ActionKind:
        counts[f"actions_{kind.value}"] = sum(1 for a in actions if a.kind is kind)
    return MrpResult(
        parameters=snapshot.parameters,
        calendar=snapshot.calendar,
        items=MappingProxyType(ordered),
        planned_orders=orders,
        actions=actions,
        counts=MappingProxyType(counts),
        timings=MappingProxyType(timings),
        items_planned=n,
    )


def _firm_explosions(ctx: _Context, reqs: dict[str, list[_Req]], targets: set[str] | None) -> None:
    for parent in sorted(ctx.firm_parent_orders):
        _explode(
            ctx, parent, sources=ctx.firm_parent_orders[parent], rank=_RANK_PARENT, reqs=reqs, targets=targets
        )


def run_mrp(snapshot: Snapshot) -> MrpResult:
    """Regenerative MRP run over the whole snapshot."""
    started = time.perf_counter()
    ctx = _prepare(snapshot)
    reqs: dict[str, list[_Req]] = {}
    _firm_explosions(ctx, reqs, None)
    timings: dict[int, float] = {-1: time.perf_counter() - started}
    plans = _plan_levels(ctx, ctx.inputs, reqs, None, timings)
    return _result(snapshot, plans, timings, len(plans))


def affected_skus(
    ctx_children: Mapping[str, Iterable[str]],
    previous_children: Mapping[str, Iterable[str]],
    changed: Iterable[str],
) -> set[str]:
    """``changed`` and every component below them, through either BOM (current or previous)."""
    seen: set[str] = set()
    stack = list(changed)
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        stack.extend(ctx_children.get(s, ()))
        stack.extend(previous_children.get(s, ()))
    return seen


def net_change(previous: MrpResult, snapshot: Snapshot, changed_skus: Iterable[str]) -> MrpResult:
    """Re-plan only what ``changed_skus`` can affect; equal to ``run_mrp(snapshot)``.

    Falls back to a regenerative run when the run parameters or the calendar changed.
    """
    if previous.parameters != snapshot.parameters or previous.calendar != snapshot.calendar:
        return run_mrp(snapshot)
    started = time.perf_counter()
    ctx = _prepare(snapshot)
    current = set(ctx.inputs)
    before = set(previous.items)
    changed = set(changed_skus) | (current ^ before)
    children = {p: [c for c, *_ in lines] for p, lines in ctx.children.items()}
    prev_children = {s: plan.components for s, plan in previous.items.items()}
    targets = affected_skus(children, prev_children, changed) & current

    reqs: dict[str, list[_Req]] = {}
    _firm_explosions(ctx, reqs, targets)
    kept_parents = sorted({p for c in targets for p in ctx.parents.get(c, ()) if p not in targets})
    for parent in kept_parents:
        plan = previous.items[parent]
        if ctx.inputs[parent].item.phantom:
            sources = [(parent, row[0], row[4]) for row in plan.record.raw_rows if row[4] > 0]
            _explode(ctx, parent, sources=sources, rank=_RANK_PHANTOM, reqs=reqs, targets=targets)
        else:
            sources = [
                (po.id, po.release_date.toordinal(), to_micro(po.quantity)) for po in plan.planned_orders
            ]
            _explode(ctx, parent, sources=sources, rank=_RANK_PARENT, reqs=reqs, targets=targets)
    timings: dict[int, float] = {-1: time.perf_counter() - started}
    plans = _plan_levels(ctx, sorted(targets), reqs, targets, timings)
    merged = {s: p for s, p in previous.items.items() if s in current and s not in targets}
    merged.update(plans)
    return _result(snapshot, merged, timings, len(plans))
