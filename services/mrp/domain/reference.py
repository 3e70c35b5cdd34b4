"""A deliberately plain MRP run, for checking the engine and benchmarking it.

Same semantics as :mod:`services.mrp.domain.netting` (read its module docstring for the rules),
written the slow, obvious way: ``Decimal`` arithmetic, one pass over *every* calendar day of the
horizon for every item, calendar arithmetic by stepping one day at a time, requirements found by
scanning lists. Nothing is shared with the engine but the snapshot and result types.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import (
    RECEIPT_STATUSES,
    BomLine,
    Item,
    ItemKind,
    LotRule,
    OrderStatus,
    Snapshot,
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
)

_ONE_DAY = timedelta(days=1)
_MICRO = Decimal("0.000001")
_WIDE = Context(prec=60)
_KINDS = ["sales_order", "forecast", "parent_order", "phantom", "safety_stock", "none"]


def _prev_working(cal: Calendar, d: date) -> date:
    while not cal.is_working(d):
        d -= _ONE_DAY
    return d


def _back(cal: Calendar, d: date, lead: int) -> date:
    d = _prev_working(cal, d)
    for _ in range(lead):
        d -= _ONE_DAY
        d = _prev_working(cal, d)
    return d


def _window_end(cal: Calendar, d: date, periods: int) -> date:
    x = d
    count = 0
    while True:
        if cal.is_working(x) and count == periods:
            return x
        if cal.is_working(x):
            count += 1
        x += _ONE_DAY


def _ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding="ROUND_CEILING")


def _lot(item: Item, shortage: Decimal, window: Decimal, eoq: Decimal) -> list[Decimal]:
    lot = item.lot_sizing
    if lot.rule == LotRule.FIXED:
        assert lot.quantity is not None
        q = lot.quantity * _ceil(shortage / lot.quantity)
    elif lot.rule == LotRule.EOQ and eoq > 0:
        q = eoq * _ceil(shortage / eoq)
    elif lot.rule == LotRule.PERIOD:
        q = max(shortage, window)
    else:
        q = shortage

    def raise_min_multiple(x: Decimal) -> Decimal:
        if lot.min_qty is not None and x < lot.min_qty:
            x = lot.min_qty
        if lot.multiple is not None:
            x = lot.multiple * _ceil(x / lot.multiple)
        return x

    q = raise_min_multiple(q)
    if lot.max_qty is None or q <= lot.max_qty:
        return [q]
    out = []
    while q >= lot.max_qty:
        out.append(lot.max_qty)
        q -= lot.max_qty
    if q > 0:
        out.append(raise_min_multiple(q))
    return out


def reference_run(snapshot: Snapshot) -> MrpResult:
    """Plain regenerative MRP run, day by day (see the module docstring)."""
    params = snapshot.parameters
    cal = snapshot.calendar
    today = params.today
    end = today + timedelta(days=params.horizon_days)
    days = [today + timedelta(days=i) for i in range(params.horizon_days)]
    items = {it.sku: it for it in snapshot.items}

    def counting(d: date) -> date:
        return max(today, _prev_working(cal, d))

    # Low-level codes: relax "child below parent" until nothing moves.
    llc = dict.fromkeys(items, 0)
    changed = True
    rounds = 0
    while changed:
        changed = False
        rounds += 1
        if rounds > len(items) + 1:
            raise ValueError("the bill of materials has a cycle")
        for line in snapshot.bom:
            if llc[line.component] < llc[line.parent] + 1:
                llc[line.component] = llc[line.parent] + 1
                changed = True

    # Requirements: [counting date, rank, original date, reference, line, parent, qty]
    demand: dict[str, list[tuple[date, int, date, str, int, str, Decimal]]] = {s: [] for s in items}

    def explode(parent: str, ref: str, r: date, qty: Decimal, rank: int) -> None:
        for line in snapshot.bom:
            if line.parent != parent:
                continue
            if not _valid(line, r) or r >= end:
                continue
            dep = _WIDE.divide(qty * line.qty_per, 1 - line.scrap_pct / 100)
            dep = dep.quantize(_MICRO, rounding=ROUND_HALF_EVEN)
            if dep > 0:
                demand[line.component].append((counting(r), rank, r, ref, 0, parent, dep))

    for firm in sorted(snapshot.parent_orders, key=lambda p: p.sku):
        if firm.status == OrderStatus.FIRM and firm.quantity > 0:
            explode(firm.sku, firm.order_id, firm.release_date, firm.quantity, 2)

    plans: dict[str, ItemPlan] = {}
    for sku in sorted(items, key=lambda s: (llc[s], s)):
        item = items[sku]
        safety = Decimal(0) if item.phantom else item.safety_stock
        stock = snapshot.stock.get(sku, Decimal(0))
        reqs = list(demand[sku])
        sales = [so for so in snapshot.sales_orders if so.sku == sku and so.quantity > 0]
        for so in sales:
            if so.due_date < end:
                reqs.append((counting(so.due_date), 0, so.due_date, so.order_id, so.line, "", so.quantity))
        buckets: dict[date, Decimal] = {}
        for fc in snapshot.forecasts:
            if fc.sku == sku:
                buckets[fc.start] = buckets.get(fc.start, Decimal(0)) + fc.quantity
        starts = sorted(buckets)
        for i, start in enumerate(starts):
            nxt = starts[i + 1] if i + 1 < len(starts) else None
            if start >= end or (nxt is not None and nxt <= today):
                continue
            consumed = sum(
                (so.quantity for so in sales if start <= so.due_date and (nxt is None or so.due_date < nxt)),
                Decimal(0),
            )
            net = buckets[start] - consumed
            if net > 0:
                reqs.append((counting(max(start, today)), 1, start, start.isoformat(), 0, "", net))
        reqs.sort()
        receipts = sorted(
            (counting(r.due_date), r.due_date, r.order_id, r.quantity)
            for r in snapshot.receipts
            if r.sku == sku and r.status in RECEIPT_STATUSES and r.quantity > 0 and r.due_date < end
        )

        def gross_on(d: date, reqs: list[tuple[date, int, date, str, int, str, Decimal]] = reqs) -> Decimal:
            return sum((r[6] for r in reqs if r[0] == d), Decimal(0))

        def receipts_on(d: date, receipts: list[tuple[date, date, str, Decimal]] = receipts) -> Decimal:
            return sum((r[3] for r in receipts if r[0] == d), Decimal(0))

        eoq = Decimal(0)
        if item.lot_sizing.rule == LotRule.EOQ:
            total = sum((r[6] for r in reqs), Decimal(0))
            cost = params.holding_rate * item.standard_cost
            if total > 0 and cost > 0 and params.order_cost > 0:
                annual = total * 365 / params.horizon_days
                eoq = _WIDE.sqrt(_WIDE.divide(2 * annual * params.order_cost, cost))
                eoq = eoq.quantize(_MICRO, rounding=ROUND_HALF_UP)

        # The walk, every day.
        pab = stock
        history: dict[date, Decimal] = {}
        rows: dict[date, list[Decimal]] = {}
        orders: list[tuple[date, date, date, int, Decimal]] = []
        passed: list[tuple[date, Decimal]] = []
        for d in days:
            g = gross_on(d)
            sr = receipts_on(d)
            p = pab + sr - g
            net = Decimal(0)
            prc = Decimal(0)
            if p < safety:
                net = safety - p
                if item.phantom:
                    passed.append((d, net))
                    p = safety
                else:
                    window = Decimal(0)
                    if item.lot_sizing.rule == LotRule.PERIOD:
                        assert item.lot_sizing.periods is not None
                        stop = _window_end(cal, d, item.lot_sizing.periods)
                        q = p
                        t = d
                        while t < stop and t < end:
                            if t > d:
                                q = q + receipts_on(t) - gross_on(t)
                            window = max(window, safety - q)
                            t += _ONE_DAY
                    due = _prev_working(cal, d)
                    release = _back(cal, due, item.lead_time_days)
                    for n, q in enumerate(_lot(item, net, window, eoq), start=1):
                        orders.append((d, due, release, n, q))
                        prc += q
                    p += prc
            history[d] = p
            if d == today or g or sr or net or prc:
                rows[d] = [g, sr, p, net, prc, Decimal(0)]
            pab = p
        for _d, _due, release, _n, q in orders:
            if release not in rows:
                before = [h for h in history if h <= release]
                rows[release] = [Decimal(0), Decimal(0), history[max(before)] if before else stock]
                rows[release] += [Decimal(0), Decimal(0), Decimal(0)]
            rows[release][5] += q

        # Pegging, unit blocks in order.
        supply_qty: list[Decimal] = []
        supply_order: list[int] = []
        if stock > 0:
            supply_qty.append(stock)
            supply_order.append(-1)
        for d in days:
            if receipts_on(d):
                supply_qty.append(receipts_on(d))
                supply_order.append(-1)
            for k, o in enumerate(orders):
                if o[0] == d:
                    supply_qty.append(o[4])
                    supply_order.append(k)
        needs: list[tuple[date, int, date, str, int, str, Decimal]] = []
        if stock < 0:
            needs.append((today, 5, today, "", 0, "", -stock))
        if safety > 0:
            needs.append((today, 4, today, "", 0, "", safety))
        needs += reqs
        pegs: list[list[Peg]] = [[] for _ in orders]
        if not item.phantom:
            for need in needs:
                left = need[6]
                for b in range(len(supply_qty)):
                    if left == 0:
                        break
                    take = min(left, supply_qty[b])
                    if take == 0:
                        continue
                    supply_qty[b] -= take
                    left -= take
                    k = supply_order[b]
                    if k >= 0 and need[1] != 5:
                        pegs[k].append(
                            Peg(
                                PegKind(_KINDS[need[1]]),
                                need[3],
                                need[4] if need[1] == 0 else None,
                                need[5] or None,
                                need[0],
                                take,
                            )
                        )

        planned = [
            PlannedOrder(
                f"{sku}@{due.isoformat()}#{n}", sku, ItemKind(item.kind), q, rel, due, tuple(pegs[k])
            )
            for k, (_d, due, rel, n, q) in enumerate(orders)
        ]

        # Actions.
        actions: list[tuple[date, int, str, Action]] = []
        window_end = today + timedelta(days=params.release_window_days)
        for po in planned:
            if po.release_date < today:
                actions.append(
                    (
                        po.release_date,
                        1,
                        po.id,
                        Action(ActionKind.PAST_DUE, sku, po.id, po.quantity, po.release_date),
                    )
                )
            elif po.release_date <= window_end:
                actions.append(
                    (
                        po.release_date,
                        0,
                        po.id,
                        Action(ActionKind.RELEASE, sku, po.id, po.quantity, po.release_date),
                    )
                )
        base = stock
        for count_date, due_date, oid, q in receipts:
            needed = None
            cumulated = Decimal(0)
            for t in days:
                cumulated += gross_on(t)
                if base - cumulated < safety:
                    needed = t
                    break
            if due_date < today:
                actions.append((due_date, 1, oid, Action(ActionKind.PAST_DUE, sku, oid, q, due_date)))
            if needed is None:
                actions.append((due_date, 4, oid, Action(ActionKind.CANCEL, sku, oid, q, due_date)))
            elif needed < count_date:
                actions.append(
                    (due_date, 2, oid, Action(ActionKind.RESCHEDULE_IN, sku, oid, q, due_date, needed))
                )
            elif needed > count_date:
                actions.append(
                    (due_date, 3, oid, Action(ActionKind.RESCHEDULE_OUT, sku, oid, q, due_date, needed))
                )
            base += q
        actions.sort(key=lambda a: (a[0], a[1], a[2]))

        raw = tuple(
            (
                d.toordinal(),
                to_micro(rows[d][0]),
                to_micro(rows[d][1]),
                to_micro(rows[d][2]),
                to_micro(rows[d][3]),
                to_micro(rows[d][4]),
                to_micro(rows[d][5]),
            )
            for d in sorted(rows)
        )
        record = ItemRecord(sku, llc[sku], to_micro(stock), to_micro(safety), raw)
        components = tuple(sorted({ln.component for ln in snapshot.bom if ln.parent == sku}))
        plans[sku] = ItemPlan(record, tuple(planned), tuple(a for *_, a in actions), components)

        if item.phantom:
            for d, net in passed:
                explode(sku, sku, d, net, 3)
        else:
            for po in planned:
                explode(sku, po.id, po.release_date, po.quantity, 2)

    ordered = dict(sorted(plans.items()))
    all_orders = tuple(po for p in ordered.values() for po in p.planned_orders)
    all_actions = tuple(a for p in ordered.values() for a in p.actions)
    counts = {"items": len(ordered), "planned_orders": len(all_orders), "actions": len(all_actions)}
    for kind in ActionKind:
        counts[f"actions_{kind.value}"] = len([a for a in all_actions if a.kind == kind])
    return MrpResult(
        parameters=params,
        calendar=cal,
        items=MappingProxyType(ordered),
        planned_orders=all_orders,
        actions=all_actions,
        counts=MappingProxyType(counts),
    )


def _valid(line: BomLine, r: date) -> bool:
    return (line.valid_from is None or line.valid_from <= r) and (line.valid_to is None or r < line.valid_to)
