"""Differences between two MRP results, for "what changed since the last run".

Rule: planned orders are matched by id, i.e. by sku, due date and split number (see
:mod:`services.mrp.domain.netting`). An id only in the new result is *added*, only in the old
one *removed*; an id in both whose quantity, release date or kind differs is *changed*.
Pegging differences alone do not make an order changed (the order itself is the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.mrp.domain.result import MrpResult, PlannedOrder


@dataclass(frozen=True, slots=True)
class OrderChange:
    before: PlannedOrder
    after: PlannedOrder

    @property
    def quantity_delta(self) -> Decimal:
        return self.after.quantity - self.before.quantity


@dataclass(frozen=True, slots=True)
class ResultDiff:
    added: tuple[PlannedOrder, ...]
    removed: tuple[PlannedOrder, ...]
    changed: tuple[OrderChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_results(old: MrpResult, new: MrpResult) -> ResultDiff:
    """Planned orders added, removed and changed from ``old`` to ``new``, ordered by sku, due, id."""
    before = {po.id: po for po in old.planned_orders}
    after = {po.id: po for po in new.planned_orders}

    def key(po: PlannedOrder) -> tuple[str, int, str]:
        return (po.sku, po.due_date.toordinal(), po.id)

    added = sorted((po for i, po in after.items() if i not in before), key=key)
    removed = sorted((po for i, po in before.items() if i not in after), key=key)
    changed = sorted(
        (
            OrderChange(before[i], po)
            for i, po in after.items()
            if i in before
            and (
                before[i].quantity != po.quantity
                or before[i].release_date != po.release_date
                or before[i].kind != po.kind
            )
        ),
        key=lambda c: key(c.after),
    )
    return ResultDiff(tuple(added), tuple(removed), tuple(changed))
