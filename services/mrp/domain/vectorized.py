"""Array (numpy) form of the MRP netting of :mod:`services.mrp.domain.netting`: same rules, in bulk.

Why it gives the same numbers as the per-item walk
--------------------------------------------------
* Time is a list of *columns*: today, then every working day of the horizon after today. Every
  date the per-item walk visits (today, a requirement's or a receipt's counting date) is a
  column; on a column with no event nothing changes (``PAB`` stays at or above safety stock), so
  walking every column gives the same projections and orders as walking only event dates.
* Quantities stay integer micro-units (``int64``). Gross requirements are summed per
  (item, column) with ``bincount`` only when the batch's total is below 2**53 (so the float sums
  are exact), else with ``np.add.at`` on integers. A dependent demand is ``Q × num / den``
  rounded half to even in integers, exactly :func:`~services.mrp.domain.model.round_half_even_div`;
  products that could overflow 63 bits are computed with Python integers.
* One low-level code at a time, the walk advances column by column for all the level's items at
  once; only the items found short on a column are lot-sized (vectorised ``fixed`` / ``eoq`` /
  ``period`` / min / multiple / max split). ``period`` needs the projection of the next columns
  without the new order: ``PAB_before(t) = p + X[t] − X[d]`` with ``X`` the cumulated
  receipts − gross, so its window maximum is ``net + max(0, X[d] − min X over the window)``.

What it does not build
----------------------
Record rows, pegging and action objects are not built here: :mod:`netting` builds them per item
on request from the planned orders kept here (see ``MrpResult.items``). Counts (orders, actions
by kind) are computed here, in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.lot_sizing import LotPolicy, eoq_quantity
from services.mrp.domain.model import Item, LotRule, RunParameters

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

NO_DATE_LOW, NO_DATE_HIGH = 0, 10**7
_RULE_CODE = {LotRule.LOT_FOR_LOT: 0, LotRule.FIXED: 1, LotRule.PERIOD: 2, LotRule.EOQ: 3}
_EXACT_FLOAT = 2**53
_SAFE = 2**62


def _ceil_div(a: I64, b: I64) -> I64:
    return -((-a) // b)


# ----------------------------------------------------------------------------------------------
# Time axis
# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Columns:
    """Walk columns of a run and the working-day table used for release dates."""

    today: int
    end: int
    ords: I64  # ordinal of each column
    due: I64  # prev_working(column): the due date of an order found short on it
    due_w: I64  # index of ``due`` in ``work``
    work: I64  # working-day ordinals, early enough for the longest lead time
    count_lut: I64  # column of ``max(today, prev_working(o))`` for o in [today, end)

    @property
    def n(self) -> int:
        return len(self.ords)

    def column_of(self, o: I64) -> I64:
        """Counting column of ordinals ``o`` (each < end)."""
        return self.count_lut[np.clip(o - self.today, 0, None)]

    def release(self, cols: I64, lead: I64) -> I64:
        return self.work[self.due_w[cols] - lead]


def make_columns(cal: Calendar, params: RunParameters, max_lead: int) -> Columns:
    today = params.today.toordinal()
    end = today + params.horizon_days
    ords = [today] + [o for o in range(today + 1, end) if cal.is_working_ord(o)]
    index = {o: i for i, o in enumerate(ords)}
    lut = [index[max(today, cal.prev_working_ord(o))] for o in range(today, end)]
    due = [cal.prev_working_ord(o) for o in ords]
    first = cal.rank_ord(due[0]) - max_lead
    last = cal.rank_ord(ords[-1])
    work = [cal.nth_ord(k) for k in range(first, last + 1)]
    widx = {o: i for i, o in enumerate(work)}
    return Columns(
        today=today,
        end=end,
        ords=np.array(ords, dtype=np.int64),
        due=np.array(due, dtype=np.int64),
        due_w=np.array([widx[o] for o in due], dtype=np.int64),
        work=np.array(work, dtype=np.int64),
        count_lut=np.array(lut, dtype=np.int64),
    )


# ----------------------------------------------------------------------------------------------
# Structure: items and BOM as arrays
# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Structure:
    """Items (indexed in sku order) and the BOM as CSR arrays, by parent and by component."""

    skus: list[str]
    index: dict[str, int]
    items: list[Item]
    policies: list[LotPolicy]
    llc: I64
    lead: I64
    phantom: Bool
    safety: I64
    rule: I64
    lot_qty: I64
    periods: I64
    min_qty: I64
    max_qty: I64
    multiple: I64
    # BOM lines sorted by (parent, component, num, den, valid_from, valid_to)
    ptr: I64  # lines of parent p: [ptr[p], ptr[p+1])
    comp: I64
    num: I64  # qty_per × 100 / (100 − scrap) = num / den (exact)
    den: I64
    vf: I64
    vt: I64
    big: Bool  # num or den too large for int64 arithmetic
    big_factor: dict[int, tuple[int, int]]  # line -> (num, den) as Python ints, for ``big`` lines
    line_parent: I64
    rptr: I64  # lines whose component is c: rlines[rptr[c]:rptr[c+1]]
    rlines: I64

    @property
    def n(self) -> int:
        return len(self.skus)

    def children_of(self, p: int) -> tuple[str, ...]:
        return tuple(sorted({self.skus[c] for c in self.comp[self.ptr[p] : self.ptr[p + 1]].tolist()}))


def build_structure(
    items: dict[str, Item],
    policies: dict[str, LotPolicy],
    llc: dict[str, int],
    lines: Iterable[tuple[str, str, Any, Any, int, int]],
) -> Structure:
    """``lines``: (parent, component, qty_per, scrap_pct, valid_from ord, valid_to ord)."""
    skus = sorted(items)
    index = {s: i for i, s in enumerate(skus)}
    its = [items[s] for s in skus]
    pols = [policies[s] for s in skus]
    n = len(skus)
    factors: dict[tuple[Any, Any], tuple[int, int]] = {}
    rows: list[tuple[int, int, int, int, int, int]] = []
    for parent, component, qty_per, scrap, valid_from, valid_to in lines:
        key = (qty_per, scrap)
        f = factors.get(key)
        if f is None:
            fr = Fraction(qty_per) * 100 / (100 - Fraction(scrap))
            f = factors[key] = (fr.numerator, fr.denominator)
        rows.append((index[parent], index[component], f[0], f[1], valid_from, valid_to))
    rows.sort()
    m = len(rows)
    par = np.fromiter((r[0] for r in rows), dtype=np.int64, count=m)
    comp = np.fromiter((r[1] for r in rows), dtype=np.int64, count=m)
    big_factor: dict[int, tuple[int, int]] = {}
    nums = np.empty(m, dtype=np.int64)
    dens = np.empty(m, dtype=np.int64)
    big = np.zeros(m, dtype=np.bool_)
    for k, r in enumerate(rows):
        if r[2] >= _SAFE or r[3] >= _SAFE:
            big[k] = True
            big_factor[k] = (r[2], r[3])
            nums[k], dens[k] = 1, 1
        else:
            nums[k], dens[k] = r[2], r[3]
    vf = np.fromiter((r[4] for r in rows), dtype=np.int64, count=m)
    vt = np.fromiter((r[5] for r in rows), dtype=np.int64, count=m)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(par, minlength=n), out=ptr[1:])
    rlines = np.argsort(comp, kind="stable").astype(np.int64)
    rptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(comp, minlength=n), out=rptr[1:])
    return Structure(
        skus=skus,
        index=index,
        items=its,
        policies=pols,
        llc=np.array([llc[s] for s in skus], dtype=np.int64),
        lead=np.array([it.lead_time_days for it in its], dtype=np.int64),
        phantom=np.array([it.phantom for it in its], dtype=np.bool_),
        safety=np.zeros(n, dtype=np.int64),  # filled by the caller
        rule=np.array([_RULE_CODE[p.rule] for p in pols], dtype=np.int64),
        lot_qty=np.array([p.quantity for p in pols], dtype=np.int64),
        periods=np.array([p.periods for p in pols], dtype=np.int64),
        min_qty=np.array([p.min_qty for p in pols], dtype=np.int64),
        max_qty=np.array([p.max_qty for p in pols], dtype=np.int64),
        multiple=np.array([p.multiple for p in pols], dtype=np.int64),
        ptr=ptr,
        comp=comp,
        num=nums,
        den=dens,
        vf=vf,
        vt=vt,
        big=big,
        big_factor=big_factor,
        line_parent=par,
        rptr=rptr,
        rlines=rlines,
    )


# ----------------------------------------------------------------------------------------------
# Planned orders of a run
# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Orders:
    """Planned orders (or phantom pass-through) sorted by (item, column, split number)."""

    item: I64
    col: I64
    due: I64
    release: I64
    k: I64
    qty: I64

    @staticmethod
    def empty() -> Orders:
        z = np.zeros(0, dtype=np.int64)
        return Orders(z, z, z, z, z, z)

    @staticmethod
    def concat(parts: list[Orders]) -> Orders:
        if not parts:
            return Orders.empty()
        return Orders(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("item", "col", "due", "release", "k", "qty")
            )
        )

    def take(self, idx: I64) -> Orders:
        return Orders(
            self.item[idx], self.col[idx], self.due[idx], self.release[idx], self.k[idx], self.qty[idx]
        )

    def sorted(self) -> Orders:
        order = np.lexsort((self.k, self.col, self.item))
        return self.take(order)


def pointers(item: I64, n: int) -> I64:
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=n), out=ptr[1:])
    return ptr


# ----------------------------------------------------------------------------------------------
# Explosion
# ----------------------------------------------------------------------------------------------


def explode(
    st: Structure, cols: Columns, parent: I64, r: I64, qty: I64, wanted: Bool | None
) -> tuple[I64, I64, I64]:
    """Dependent demand of sources (parent item, date ordinal, quantity) on the components.

    Returns (component, counting column, quantity) of every positive dependent demand whose BOM
    line is valid at ``r`` (and ``r`` before the horizon's end), for components in ``wanted``.
    """
    empty = np.zeros(0, dtype=np.int64)
    keep = r < cols.end
    parent, r, qty = parent[keep], r[keep], qty[keep]
    deg = st.ptr[parent + 1] - st.ptr[parent]
    total = int(deg.sum())
    if total == 0:
        return empty, empty, empty
    src = np.repeat(np.arange(len(parent), dtype=np.int64), deg)
    first = np.repeat(st.ptr[parent] - np.cumsum(deg) + deg, deg)
    line = first + np.arange(total, dtype=np.int64)
    rr = r[src]
    ok = (st.vf[line] <= rr) & (rr < st.vt[line])
    if wanted is not None:
        ok &= wanted[st.comp[line]]
    line, src, rr = line[ok], src[ok], rr[ok]
    q = qty[src]
    num = st.num[line]
    den = st.den[line]
    dep = np.empty(len(line), dtype=np.int64)
    big = st.big[line]
    qmax = int(q.max()) if len(q) else 0
    nmax = int(num.max()) if len(num) else 0
    if qmax * nmax < _SAFE and not big.any():
        prod = q * num
        one = den == 1
        dep[one] = prod[one]
        if not one.all():
            p, d = prod[~one], den[~one]
            quo, rem = np.divmod(p, d)
            twice = 2 * rem
            up = (twice > d) | ((twice == d) & (quo % 2 == 1))
            dep[~one] = quo + up
    else:
        for j in range(len(line)):
            li = int(line[j])
            nn, dd = st.big_factor.get(li, (int(num[j]), int(den[j])))
            dep[j] = _round_half_even(int(q[j]) * nn, dd)
    pos = dep > 0
    return st.comp[line[pos]], cols.column_of(rr[pos]), dep[pos]


def _round_half_even(numerator: int, denominator: int) -> int:
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        return q + 1
    return q


def accumulate(gross: I64, row: I64, col: I64, qty: I64, width: int) -> None:
    """``gross[row, col] += qty`` (``gross`` a C-contiguous (rows, width) matrix), exactly."""
    if len(qty) == 0:
        return
    flat = row * width + col
    if float(qty.sum(dtype=np.float64)) < _EXACT_FLOAT / 2 and int(qty.min()) >= 0:
        sums = np.bincount(flat, weights=qty, minlength=gross.size)
        gross += sums.astype(np.int64).reshape(gross.shape)
    else:
        np.add.at(gross.reshape(-1), flat, qty)


# ----------------------------------------------------------------------------------------------
# The walk of one level
# ----------------------------------------------------------------------------------------------


def walk(
    st: Structure,
    cols: Columns,
    params: RunParameters,
    members: I64,
    gross: I64,
    receipts: I64,
    stock: I64,
) -> tuple[Orders, Orders]:
    """Net ``members`` (items of one level) over every column. ``gross`` / ``receipts``:
    (len(members), columns) matrices. Returns (planned orders, phantom net requirements)."""
    n_cols = cols.n
    safety = st.safety[members]
    pab = stock[members].copy()
    rule = st.rule[members].copy()
    lot_qty = st.lot_qty[members].copy()
    eoq_rows = np.flatnonzero(rule == 3)
    for i in eoq_rows.tolist():
        item = st.items[int(members[i])]
        lot_qty[i] = eoq_quantity(
            int(gross[i].sum()),
            params.horizon_days,
            params.order_cost,
            params.holding_rate,
            item.standard_cost,
        )
        rule[i] = 1 if lot_qty[i] > 0 else 0
    min_qty, max_qty, multiple = st.min_qty[members], st.max_qty[members], st.multiple[members]
    phantom = st.phantom[members]
    # Period rule: X = cumulated receipts − gross; window minima of X from a sparse table
    # (table[j][:, c] = min of X over columns [c, c + 2**j)).
    prow = np.full(len(members), -1, dtype=np.int64)
    per = np.flatnonzero((rule == 2) & ~phantom)
    big = np.iinfo(np.int64).max
    today_works = bool(cols.ords[0] == cols.due[0])
    if len(per):
        prow[per] = np.arange(len(per))
        x = np.cumsum(receipts[per] - gross[per], axis=1)
        n_per = st.periods[members[per]]
        table = [x]
        span = 1
        while 2 * span <= min(int(n_per.max()), n_cols):
            prev = table[-1]
            nxt = np.full(prev.shape, big, dtype=np.int64)
            nxt[:, : n_cols - span] = np.minimum(prev[:, : n_cols - span], prev[:, span:])
            table.append(nxt)
            span *= 2
        stack = np.stack(table)
    delta_t = np.ascontiguousarray((receipts - gross).T)
    rows_l: list[I64] = []
    col_l: list[I64] = []
    net_l: list[I64] = []
    tot_l: list[I64] = []
    pre_l: list[I64] = []
    for c in range(n_cols):
        pab += delta_t[c]
        short = np.flatnonzero(pab < safety)
        if not len(short):
            continue
        net = safety[short] - pab[short]
        base = net.copy()
        ru = rule[short]
        fx = np.flatnonzero(ru == 1)
        if len(fx):
            lq = lot_qty[short[fx]]
            base[fx] = lq * _ceil_div(net[fx], lq)
        pr = np.flatnonzero((ru == 2) & ~phantom[short])
        if len(pr):
            pi = prow[short[pr]]
            n_p = n_per[pi]
            if c == 0 and not today_works:  # the window of a non-working today: columns 1..n
                lo, hi = 1, np.minimum(1 + n_p, n_cols)
            else:  # columns c+1 .. c+n-1
                lo, hi = c + 1, np.minimum(c + n_p, n_cols)
            length = hi - lo
            ok = length > 0
            lift = np.zeros(len(pr), dtype=np.int64)
            if ok.any():
                ln = length[ok]
                j = np.floor(np.log2(ln)).astype(np.int64)
                pk = pi[ok]
                w_min = np.minimum(stack[j, pk, lo], stack[j, pk, hi[ok] - (1 << j)])
                lift[ok] = np.maximum(x[pk, c] - w_min, 0)
            base[pr] = net[pr] + lift
        mn = min_qty[short]
        q = np.maximum(base, mn)
        mu = multiple[short]
        hm = mu > 0
        if hm.any():
            q[hm] = mu[hm] * _ceil_div(q[hm], mu[hm])
        mx = max_qty[short]
        split = (mx > 0) & (q > mx)
        total = q
        if split.any():
            total = q.copy()
            s = np.flatnonzero(split)
            full, rest = np.divmod(q[s], mx[s])
            adj = np.maximum(rest, mn[s])
            ms = mu[s]
            hs = ms > 0
            adj[hs] = ms[hs] * _ceil_div(adj[hs], ms[hs])
            adj[rest == 0] = 0
            total[s] = full * mx[s] + adj
        ph = phantom[short]
        if ph.any():
            total = np.where(ph, net, total)
        pab[short] += total
        rows_l.append(short)
        col_l.append(np.full(len(short), c, dtype=np.int64))
        net_l.append(net)
        tot_l.append(total)
        pre_l.append(q)
    if not rows_l:
        return Orders.empty(), Orders.empty()
    if int(np.abs(pab).max(initial=0)) >= _SAFE or int(np.abs(gross).max(initial=0)) >= _SAFE:
        raise OverflowError("MRP quantities beyond 2**62 micro-units (about 4.6e12 units)")
    rows = np.concatenate(rows_l)
    col = np.concatenate(col_l)
    net = np.concatenate(net_l)
    total = np.concatenate(tot_l)
    pre = np.concatenate(pre_l)
    ph = phantom[rows]
    phr = np.flatnonzero(ph)
    ph_orders = Orders(
        members[rows[phr]],
        col[phr],
        cols.ords[col[phr]],
        cols.ords[col[phr]],
        np.ones(len(phr), np.int64),
        net[phr],
    )
    keep = np.flatnonzero(~ph)
    rows, col, total, pre = rows[keep], col[keep], total[keep], pre[keep]
    # Split pieces (max_qty): floor(q / max) pieces of max, then the raised rest.
    mx = max_qty[rows]
    n_pieces = np.ones(len(rows), dtype=np.int64)
    sp = np.flatnonzero((mx > 0) & (pre > mx))
    if len(sp):
        full, rest = np.divmod(pre[sp], mx[sp])
        n_pieces[sp] = full + (rest > 0)
    rep = np.repeat(np.arange(len(rows)), n_pieces)
    starts = np.cumsum(n_pieces) - n_pieces
    k = np.arange(len(rep), dtype=np.int64) - starts[rep] + 1
    oq = total[rep]
    if len(sp):
        is_sp = np.zeros(len(rows), dtype=np.bool_)
        is_sp[sp] = True
        sel = is_sp[rep]
        r_sel = rows[rep[sel]]
        m_sel = max_qty[r_sel]
        full_sel = pre[rep[sel]] // m_sel
        piece = np.where(k[sel] <= full_sel, m_sel, total[rep[sel]] - full_sel * m_sel)
        oq[sel] = piece
    oc = col[rep]
    o_item = members[rows[rep]]
    due = cols.due[oc]
    release = cols.release(oc, st.lead[o_item])
    return Orders(o_item, oc, due, release, k, oq), ph_orders


def count_receipt_actions(
    receipts: list[tuple[int, int, str, int]], gross_row: I64, cols: Columns, stock: int, safety: int
) -> dict[str, int]:
    """Counts of the receipt messages of one item (same rules as ``netting._actions``)."""
    out: dict[str, int] = {}
    cum = np.cumsum(gross_row)
    base = stock
    for counting, due, _oid, q in receipts:
        below = np.flatnonzero(base - cum < safety)
        if due < cols.today:
            out["past_due"] = out.get("past_due", 0) + 1
        if not len(below):
            out["cancel"] = out.get("cancel", 0) + 1
        else:
            t = int(cols.ords[below[0]])
            if t < counting:
                out["reschedule_in"] = out.get("reschedule_in", 0) + 1
            elif t > counting:
                out["reschedule_out"] = out.get("reschedule_out", 0) + 1
        base += q
    return out


def layers(st: Structure) -> I64:
    """Low-level codes: the longest path from a top item (Kahn's algorithm, a layer at a time)."""
    n = st.n
    pairs = np.unique(st.line_parent * n + st.comp) if len(st.comp) else np.zeros(0, dtype=np.int64)
    par, comp = pairs // max(n, 1), pairs % max(n, 1)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(par, minlength=n), out=ptr[1:])
    indegree = np.bincount(comp, minlength=n)
    level = np.zeros(n, dtype=np.int64)
    frontier = np.flatnonzero(indegree == 0)
    seen = 0
    depth = 0
    while len(frontier):
        seen += len(frontier)
        level[frontier] = depth
        sizes = ptr[frontier + 1] - ptr[frontier]
        idx = np.repeat(ptr[frontier] - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        hit = comp[idx]
        indegree -= np.bincount(hit, minlength=n)
        touched = np.unique(hit)
        frontier = touched[indegree[touched] == 0]
        depth += 1
    if seen != n:
        raise ValueError("the bill of materials has a cycle")
    return level
