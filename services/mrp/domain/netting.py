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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

import numpy as np

from services.mrp.domain import vectorized as vec
from services.mrp.domain.calendar import Calendar
from services.mrp.domain.lot_sizing import LotPolicy, eoq_quantity, size_lot
from services.mrp.domain.model import (
    RECEIPT_STATUSES,
    Item,
    ItemKind,
    LotRule,
    OrderStatus,
    RunParameters,
    Snapshot,
    from_micro,
    round_half_even_div,
    to_micro,
)
from services.mrp.domain.result import (
    Action,
    ActionKind,
    Concat,
    ItemPlan,
    ItemRecord,
    LazyPlans,
    MrpResult,
    Peg,
    PegKind,
    PlannedOrder,
    RawRow,
)
from services.mrp.domain.vectorized import I64, Columns, Orders, Structure

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
# Source of dependent demand: (reference, date ordinal, quantity)
_Source = tuple[str, int, int]
_NO_DATE_LOW, _NO_DATE_HIGH = vec.NO_DATE_LOW, vec.NO_DATE_HIGH
# Per-item action counters kept by the engine, in this order.
_ACTION_KINDS = ("release", "past_due", "reschedule_in", "reschedule_out", "cancel")


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
class _Inputs:
    """What a run reads besides the structure: stock, receipts, independent demand, firm orders."""

    stock: I64
    receipts: dict[int, list[tuple[int, int, str, int]]]
    static: dict[int, list[_Req]]
    firm: dict[int, list[_Source]]


@dataclass(slots=True)
class _Engine:
    """A run's state: structure, inputs and planned orders (arrays); builds item plans on request."""

    snapshot: Snapshot
    params: RunParameters
    calendar: Calendar
    today: int
    end: int
    st: Structure
    cols: Columns
    inputs: _Inputs
    orders: Orders  # sorted by (item, column, split number)
    optr: I64
    phantom: Orders  # phantom pass-through (due = the walk date), sorted by item
    pptr: I64
    action_counts: I64  # (items, len(_ACTION_KINDS))
    count_cache: dict[int, int]

    def counting_date(self, o: int) -> int:
        """``max(today, prev_working(o))``, memoised."""
        c = self.count_cache.get(o)
        if c is None:
            c = self.today if o <= self.today else max(self.today, self.calendar.prev_working_ord(o))
            self.count_cache[o] = c
        return c

    def input_of(self, sku: str) -> _ItemInput:
        i = self.st.index[sku]
        return _ItemInput(
            item=self.st.items[i],
            llc=int(self.st.llc[i]),
            safety=int(self.st.safety[i]),
            stock=int(self.inputs.stock[i]),
            policy=self.st.policies[i],
            receipts=self.inputs.receipts.get(i, []),
            static_reqs=self.inputs.static.get(i, []),
        )

    # -- item plans, on request -----------------------------------------------------------------

    def sources_of(self, p: int) -> tuple[list[_Source], int]:
        """What parent ``p``'s run passes to its components: planned orders or phantom nets."""
        sku = self.st.skus[p]
        if self.st.phantom[p]:
            lo, hi = int(self.pptr[p]), int(self.pptr[p + 1])
            ph = self.phantom
            return [
                (sku, d, q) for d, q in zip(ph.due[lo:hi].tolist(), ph.qty[lo:hi].tolist(), strict=True)
            ], _RANK_PHANTOM
        lo, hi = int(self.optr[p]), int(self.optr[p + 1])
        o = self.orders
        out = []
        for due, rel, k, q in zip(
            o.due[lo:hi].tolist(),
            o.release[lo:hi].tolist(),
            o.k[lo:hi].tolist(),
            o.qty[lo:hi].tolist(),
            strict=True,
        ):
            out.append((f"{sku}@{date.fromordinal(due).isoformat()}#{k}", rel, q))
        return out, _RANK_PARENT

    def requirements_of(self, i: int) -> list[_Req]:
        """Every gross requirement of item ``i`` (independent, then dependent from each parent)."""
        st = self.st
        reqs = list(self.inputs.static.get(i, ()))
        cache: dict[int, tuple[list[_Source], int]] = {}
        for line in st.rlines[st.rptr[i] : st.rptr[i + 1]].tolist():
            p = int(st.line_parent[line])
            parent = st.skus[p]
            num, den = st.big_factor.get(line, (int(st.num[line]), int(st.den[line])))
            vf, vt = int(st.vf[line]), int(st.vt[line])
            if p not in cache:
                cache[p] = self.sources_of(p)
            planned, rank = cache[p]
            for sources, rk in ((self.inputs.firm.get(p, ()), _RANK_PARENT), (planned, rank)):
                for ref, r, qty in sources:
                    if r < vf or r >= vt or r >= self.end:
                        continue
                    dep = qty * num if den == 1 else round_half_even_div(qty * num, den)
                    if dep > 0:
                        reqs.append((self.counting_date(r), rk, r, ref, 0, parent, dep))
        return reqs

    def plan_of(self, sku: str) -> ItemPlan:
        return _plan_item(self, sku, self.requirements_of(self.st.index[sku]))

    def result(self, timings: dict[int, float], items_planned: int) -> MrpResult:
        st = self.st
        plans = LazyPlans(st.skus, self.plan_of)
        sizes = np.diff(self.optr).tolist()
        orders = Concat(st.skus, sizes, lambda s: plans[s].planned_orders)
        actions = Concat(st.skus, self.action_counts.sum(axis=1).tolist(), lambda s: plans[s].actions)
        totals = self.action_counts.sum(axis=0).tolist()
        counts = {"items": st.n, "planned_orders": len(orders), "actions": int(sum(totals))}
        by_kind = dict(zip(_ACTION_KINDS, totals, strict=True))
        for kind in ActionKind:
            counts[f"actions_{kind.value}"] = int(by_kind[kind.value])
        return MrpResult(
            parameters=self.params,
            calendar=self.calendar,
            items=plans,
            planned_orders=orders,
            actions=actions,
            counts=MappingProxyType(counts),
            timings=MappingProxyType(timings),
            items_planned=items_planned,
            engine_state=self,
        )


# ----------------------------------------------------------------------------------------------
# Preparation
# ----------------------------------------------------------------------------------------------


def _structure(snapshot: Snapshot) -> Structure:
    items = {it.sku: it for it in snapshot.items}
    if len(items) != len(snapshot.items):
        raise ValueError("duplicate sku in the snapshot's items")
    checked: set[tuple[object, object]] = set()
    lines = []
    edges: dict[str, list[str]] = defaultdict(list)
    for line in snapshot.bom:
        if line.parent not in items:
            raise ValueError(f"a BOM line names unknown sku {line.parent!r}")
        if line.component not in items:
            raise ValueError(f"a BOM line names unknown sku {line.component!r}")
        key = (line.qty_per, line.scrap_pct)
        if key not in checked:
            if line.qty_per < 0 or not (0 <= line.scrap_pct < 100):
                raise ValueError(f"BOM line {line.parent}->{line.component}: bad qty_per or scrap_pct")
            checked.add(key)
        vf = line.valid_from.toordinal() if line.valid_from else _NO_DATE_LOW
        vt = line.valid_to.toordinal() if line.valid_to else _NO_DATE_HIGH
        lines.append((line.parent, line.component, line.qty_per, line.scrap_pct, vf, vt))
        edges[line.parent].append(line.component)
    policies = {}
    for sku, it in items.items():
        if it.lead_time_days < 0:
            raise ValueError(f"{sku}: lead time must not be negative")
        policies[sku] = LotPolicy.from_lot_sizing(it.lot_sizing, sku)
    given = [it.low_level_code for it in snapshot.items]
    use_given = all(g is not None for g in given)
    st = vec.build_structure(items, policies, dict.fromkeys(items, 0), lines)
    if use_given:
        st.llc = np.array([items[s].low_level_code or 0 for s in st.skus], dtype=np.int64)
        par = st.line_parent
        use_given = bool(np.all(st.llc[par] < st.llc[st.comp]))
    if not use_given:
        st.llc = vec.layers(st)
    safety = []
    for sku in st.skus:
        it = items[sku]
        s = 0 if it.phantom else to_micro(it.safety_stock, f"{sku} safety stock")
        if s < 0:
            raise ValueError(f"{sku}: safety stock must not be negative")
        safety.append(s)
    st.safety = np.array(safety, dtype=np.int64)
    return st


def _inputs(
    snapshot: Snapshot, st: Structure, eng_today: int, end: int, counting, only: set[int] | None
) -> _Inputs:
    """Stock, receipts, sales orders, net forecast and firm parent orders, as engine inputs.

    ``only``: convert the inputs of these items only (net change); unknown skus are always refused.
    """
    index = st.index

    def idx(sku: str, what: str) -> int:
        i = index.get(sku)
        if i is None:
            raise ValueError(f"{what} names unknown sku {sku!r}")
        return i

    stock = np.zeros(st.n, dtype=np.int64)
    for sku, value in snapshot.stock.items():
        i = index.get(sku)
        if i is not None and (only is None or i in only):
            stock[i] = to_micro(value, f"{sku} stock")
    receipts: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for r in snapshot.receipts:
        i = idx(r.sku, "a scheduled receipt")
        if only is not None and i not in only:
            continue
        q = to_micro(r.quantity, f"receipt {r.order_id} quantity")
        if q < 0:
            raise ValueError(f"receipt {r.order_id} has a negative quantity")
        o = r.due_date.toordinal()
        if OrderStatus(r.status) in RECEIPT_STATUSES and q > 0 and o < end:
            receipts[i].append((counting(o), o, r.order_id, q))
    for lst in receipts.values():
        lst.sort()
    sales: dict[int, list[tuple[int, str, int, int]]] = defaultdict(list)
    for so in snapshot.sales_orders:
        i = idx(so.sku, "a sales-order line")
        if only is not None and i not in only:
            continue
        q = to_micro(so.quantity, f"sales order {so.order_id} quantity")
        if q < 0:
            raise ValueError(f"sales order {so.order_id} line {so.line} has a negative quantity")
        if q > 0:
            sales[i].append((so.due_date.toordinal(), so.order_id, so.line, q))
    forecasts: dict[int, dict[int, int]] = defaultdict(dict)
    for fc in snapshot.forecasts:
        i = idx(fc.sku, "a forecast")
        if only is not None and i not in only:
            continue
        q = to_micro(fc.quantity, f"forecast {fc.sku} quantity")
        if q < 0:
            raise ValueError(f"forecast {fc.sku} {fc.start} has a negative quantity")
        buckets = forecasts[i]
        s = fc.start.toordinal()
        buckets[s] = buckets.get(s, 0) + q
    firm: dict[int, list[_Source]] = defaultdict(list)
    for po in snapshot.parent_orders:
        i = idx(po.sku, "a parent order")
        if only is not None and i not in only:
            continue
        q = to_micro(po.quantity, f"order {po.order_id} quantity")
        if OrderStatus(po.status) is OrderStatus.FIRM and q > 0:
            firm[i].append((po.order_id, po.release_date.toordinal(), q))
    static: dict[int, list[_Req]] = {}
    for i in sales.keys() | forecasts.keys():
        reqs: list[_Req] = []
        so_lines = sorted(sales.get(i, ()))
        for due, oid, line_no, q in so_lines:
            if due < end:
                reqs.append((counting(due), _RANK_SALES, due, oid, line_no, "", q))
        reqs.extend(_net_forecast(eng_today, end, counting, forecasts.get(i, {}), so_lines))
        if reqs:
            static[i] = reqs
    return _Inputs(stock, dict(receipts), static, dict(firm))


def _new_engine(snapshot: Snapshot, st: Structure, cols: Columns | None) -> _Engine:
    params = snapshot.parameters
    today = params.today.toordinal()
    end = today + params.horizon_days
    if cols is None:
        cols = vec.make_columns(snapshot.calendar, params, int(st.lead.max()) if st.n else 0)
    z = np.zeros(st.n + 1, dtype=np.int64)
    return _Engine(
        snapshot=snapshot,
        params=params,
        calendar=snapshot.calendar,
        today=today,
        end=end,
        st=st,
        cols=cols,
        inputs=_Inputs(np.zeros(st.n, dtype=np.int64), {}, {}, {}),
        orders=Orders.empty(),
        optr=z,
        phantom=Orders.empty(),
        pptr=z,
        action_counts=np.zeros((st.n, len(_ACTION_KINDS)), dtype=np.int64),
        count_cache={},
    )


def _net_forecast(
    today: int,
    end: int,
    counting: Callable[[int], int],
    buckets: Mapping[int, int],
    so_lines: list[tuple[int, str, int, int]],
) -> list[_Req]:
    """Forecast consumed by orders, bucket by bucket (see the module rules)."""
    starts = sorted(buckets)
    dues = [d for d, *_ in so_lines]  # sorted
    cum = [0]
    for *_, q in so_lines:
        cum.append(cum[-1] + q)
    reqs: list[_Req] = []
    for i, start in enumerate(starts):
        if start >= end:
            break
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        if nxt is not None and nxt <= today:
            continue  # expired bucket
        lo = bisect_right(dues, start - 1)
        hi = len(dues) if nxt is None else bisect_right(dues, nxt - 1)
        net = buckets[start] - (cum[hi] - cum[lo])
        if net > 0:
            at = max(start, today)
            reqs.append(
                (counting(at), _RANK_FORECAST, start, date.fromordinal(start).isoformat(), 0, "", net)
            )
    return reqs


# ----------------------------------------------------------------------------------------------
# One item's plan in detail (record rows, pegging, actions), on request
# ----------------------------------------------------------------------------------------------


def _plan_item(ctx: _Engine, sku: str, reqs: list[_Req]) -> ItemPlan:
    """Net one item: walk its event dates, size planned orders, peg, and advise."""
    inp = ctx.input_of(sku)
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
        params = ctx.params
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
    components = ctx.st.children_of(ctx.st.index[sku])
    return ItemPlan(record, tuple(planned), actions, components)


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
    ctx: _Engine,
    inp: _ItemInput,
    gross: Mapping[int, int],
    planned: list[PlannedOrder],
    orders: list[tuple[int, int, int, int, int]],
) -> tuple[Action, ...]:
    """Release / past-due advice on planned orders and receipt messages (module rules)."""
    today = ctx.today
    window_end = today + ctx.params.release_window_days
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


# ----------------------------------------------------------------------------------------------
# Planning in bulk, level by level
# ----------------------------------------------------------------------------------------------


def _plan_levels(
    eng: _Engine,
    plan_items: I64,
    wanted: np.ndarray | None,
    extra: list[tuple[I64, I64, I64]],
    timings: dict[int, float],
) -> tuple[Orders, Orders, I64]:
    """Plan ``plan_items`` level by level. ``extra``: dependent demand already known (component,
    column, quantity). Returns the planned orders, phantom nets and the items' action counters."""
    st, cols, inputs = eng.st, eng.cols, eng.inputs
    n_cols = cols.n
    llc = st.llc[plan_items]
    order = np.lexsort((plan_items, llc))
    items = plan_items[order]
    llc = llc[order]
    row_of = np.full(st.n, -1, dtype=np.int64)
    row_of[items] = np.arange(len(items), dtype=np.int64)
    gross = np.zeros((len(items), n_cols), dtype=np.int64)
    # Independent demand.
    s_item: list[int] = []
    s_ord: list[int] = []
    s_q: list[int] = []
    for i, reqs in inputs.static.items():
        if row_of[i] >= 0:
            for r in reqs:
                s_item.append(i)
                s_ord.append(r[0])
                s_q.append(r[6])
    if s_item:
        si = np.array(s_item, dtype=np.int64)
        vec.accumulate(
            gross,
            row_of[si],
            cols.column_of(np.array(s_ord, dtype=np.int64)),
            np.array(s_q, dtype=np.int64),
            n_cols,
        )
    for comp, col, q in extra:
        vec.accumulate(gross, row_of[comp], col, q, n_cols)
    # Receipts (sparse: few items have some).
    rec_rows: dict[int, list[tuple[int, int]]] = {}
    for i, lst in inputs.receipts.items():
        if row_of[i] >= 0:
            rec_rows[int(row_of[i])] = [(int(cols.column_of(np.array([c]))[0]), q) for c, _d, _o, q in lst]
    counters = np.zeros((st.n, len(_ACTION_KINDS)), dtype=np.int64)
    out_orders: list[Orders] = []
    out_phantom: list[Orders] = []
    bounds = np.flatnonzero(np.diff(llc)) + 1
    starts = [0, *bounds.tolist()]
    stops = [*bounds.tolist(), len(items)]
    for lo, hi in zip(starts, stops, strict=True):
        started = time.perf_counter()
        level = int(llc[lo])
        members = items[lo:hi]
        g = gross[lo:hi]
        active = g.any(axis=1) | (inputs.stock[members] < st.safety[members])
        for row in rec_rows:
            if lo <= row < hi:
                active[row - lo] = True
        sub = np.flatnonzero(active)
        rec = np.zeros((len(sub), n_cols), dtype=np.int64)
        pos = {int(lo + r): j for j, r in enumerate(sub.tolist())}
        for row, entries in rec_rows.items():
            j = pos.get(row)
            if j is not None:
                for c, qty in entries:
                    rec[j, c] += qty
        orders, phantom = vec.walk(st, cols, eng.params, members[sub], g[sub], rec, inputs.stock)
        out_orders.append(orders)
        out_phantom.append(phantom)
        # Dependent demand on the components.
        src_p = np.concatenate([orders.item, phantom.item])
        src_r = np.concatenate([orders.release, phantom.due])
        src_q = np.concatenate([orders.qty, phantom.qty])
        comp, col, q = vec.explode(st, cols, src_p, src_r, src_q, wanted)
        if len(comp):
            rows = row_of[comp]
            vec.accumulate(gross, rows, col, q, n_cols)
        # Action counters: planned orders, then receipt messages.
        window_end = eng.today + eng.params.release_window_days
        rel = orders.release
        past = rel < eng.today
        counters[:, 1] += np.bincount(orders.item[past], minlength=st.n)
        counters[:, 0] += np.bincount(orders.item[~past & (rel <= window_end)], minlength=st.n)
        for row in rec_rows:
            if lo <= row < hi:
                i = int(items[row])
                got = vec.count_receipt_actions(
                    inputs.receipts[i], gross[row], cols, int(inputs.stock[i]), int(st.safety[i])
                )
                for kind, n in got.items():
                    counters[i, _ACTION_KINDS.index(kind)] += n
        timings[level] = timings.get(level, 0.0) + time.perf_counter() - started
    orders = Orders.concat(out_orders)
    phantom = Orders.concat(out_phantom)
    return (
        orders.take(np.argsort(orders.item, kind="stable")),
        phantom.take(np.argsort(phantom.item, kind="stable")),
        counters,
    )


def _firm_demand(eng: _Engine, wanted: np.ndarray | None) -> list[tuple[I64, I64, I64]]:
    parents: list[int] = []
    rs: list[int] = []
    qs: list[int] = []
    for p, sources in eng.inputs.firm.items():
        for _ref, r, q in sources:
            parents.append(p)
            rs.append(r)
            qs.append(q)
    if not parents:
        return []
    arr = np.array
    return [
        vec.explode(
            eng.st,
            eng.cols,
            arr(parents, dtype=np.int64),
            arr(rs, dtype=np.int64),
            arr(qs, dtype=np.int64),
            wanted,
        )
    ]


def run_mrp(snapshot: Snapshot) -> MrpResult:
    """Regenerative MRP run over the whole snapshot.

    The array engine keeps quantities in 64-bit integers of micro-units. A plant whose cumulated
    quantities exceed that range (about 4.6e12 units on one item and day) is planned by the plain
    per-item engine (:mod:`reference`, same semantics, arbitrary precision) instead: slower, exact.
    """
    try:
        return _run_arrays(snapshot)
    except OverflowError:
        from services.mrp.domain.reference import reference_run

        return reference_run(snapshot)


def _run_arrays(snapshot: Snapshot) -> MrpResult:
    started = time.perf_counter()
    st = _structure(snapshot)
    eng = _new_engine(snapshot, st, None)
    eng.inputs = _inputs(snapshot, st, eng.today, eng.end, eng.counting_date, None)
    extra = _firm_demand(eng, None)
    timings: dict[int, float] = {-1: time.perf_counter() - started}
    everything = np.arange(st.n, dtype=np.int64)
    orders, phantom, counters = _plan_levels(eng, everything, None, extra, timings)
    eng.orders, eng.optr = orders, vec.pointers(orders.item, st.n)
    eng.phantom, eng.pptr = phantom, vec.pointers(phantom.item, st.n)
    eng.action_counts = counters
    return eng.result(timings, st.n)


def _components_closure(st: Structure, start: Iterable[int]) -> np.ndarray:
    wanted = np.zeros(st.n, dtype=np.bool_)
    stack = list(start)
    while stack:
        p = stack.pop()
        if wanted[p]:
            continue
        wanted[p] = True
        stack.extend(st.comp[st.ptr[p] : st.ptr[p + 1]].tolist())
    return wanted


def _merge(
    prev: Orders, prev_ptr: I64, new: Orders, new_ptr: I64, take_new: np.ndarray
) -> tuple[Orders, I64]:
    """Per item: the new orders where ``take_new``, else the previous ones (both sorted by item)."""
    n = len(take_new)
    sizes = np.where(take_new, np.diff(new_ptr), np.diff(prev_ptr))
    first = np.where(take_new, new_ptr[:-1] + len(prev.item), prev_ptr[:-1])
    total = int(sizes.sum())
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    idx = np.repeat(first - ptr[:-1], sizes) + np.arange(total, dtype=np.int64)
    both = Orders.concat([prev, new])
    return both.take(idx), ptr


def net_change(previous: MrpResult, snapshot: Snapshot, changed_skus: Iterable[str]) -> MrpResult:
    """Re-plan only what ``changed_skus`` can affect; equal to ``run_mrp(snapshot)``.

    Runs regeneratively when the run parameters or the calendar changed, when ``previous`` was
    not computed by this engine (a result rebuilt from storage), or when the snapshot's items or
    BOM are not the very objects the previous run read (the structure is reused as is).
    """
    prev = previous.engine_state
    if (
        not isinstance(prev, _Engine)
        or previous.parameters != snapshot.parameters
        or previous.calendar != snapshot.calendar
        or snapshot.items is not prev.snapshot.items
        or snapshot.bom is not prev.snapshot.bom
    ):
        return run_mrp(snapshot)
    try:
        return _net_change_arrays(prev, snapshot, changed_skus)
    except OverflowError:
        return run_mrp(snapshot)


def _net_change_arrays(prev: _Engine, snapshot: Snapshot, changed_skus: Iterable[str]) -> MrpResult:
    started = time.perf_counter()
    st = prev.st
    changed = {st.index[s] for s in changed_skus if s in st.index}
    wanted = _components_closure(st, changed)
    targets = np.flatnonzero(wanted)
    target_set = set(targets.tolist())
    eng = _new_engine(snapshot, st, prev.cols)
    eng.count_cache = prev.count_cache
    new = _inputs(snapshot, st, eng.today, eng.end, eng.counting_date, target_set)
    stock = prev.inputs.stock.copy()
    stock[targets] = new.stock[targets]

    def merged(old: dict, fresh: dict) -> dict:
        out = {k: v for k, v in old.items() if k not in target_set}
        out.update(fresh)
        return out

    eng.inputs = _Inputs(
        stock,
        merged(prev.inputs.receipts, new.receipts),
        merged(prev.inputs.static, new.static),
        merged(prev.inputs.firm, new.firm),
    )
    extra = _firm_demand(eng, wanted)
    # Parents kept from the previous run feed their planned orders to re-planned components.
    kept = np.unique(
        st.line_parent[
            np.concatenate(
                [st.rlines[st.rptr[c] : st.rptr[c + 1]] for c in targets.tolist()] or [np.zeros(0, np.int64)]
            )
        ]
    )
    kept = kept[~wanted[kept]]
    if len(kept):
        parts = []
        for src, ptr in ((prev.orders, prev.optr), (prev.phantom, prev.pptr)):
            sizes = ptr[kept + 1] - ptr[kept]
            idx = np.repeat(ptr[kept] - np.cumsum(sizes) + sizes, sizes) + np.arange(
                int(sizes.sum()), dtype=np.int64
            )
            part = src.take(idx)
            parts.append((part.item, part.release if src is prev.orders else part.due, part.qty))
        p = np.concatenate([a for a, _, _ in parts])
        r = np.concatenate([b for _, b, _ in parts])
        q = np.concatenate([c for _, _, c in parts])
        extra.append(vec.explode(st, eng.cols, p, r, q, wanted))
    timings: dict[int, float] = {-1: time.perf_counter() - started}
    orders, phantom, counters = _plan_levels(eng, targets, wanted, extra, timings)
    new_optr = vec.pointers(orders.item, st.n)
    new_pptr = vec.pointers(phantom.item, st.n)
    eng.orders, eng.optr = _merge(prev.orders, prev.optr, orders, new_optr, wanted)
    eng.phantom, eng.pptr = _merge(prev.phantom, prev.pptr, phantom, new_pptr, wanted)
    eng.action_counts = np.where(wanted[:, None], counters, prev.action_counts)
    return eng.result(timings, len(targets))
