"""ABC classification by annual consumption value.

Rules:

- Items are ranked by consumption value, highest first (equal values by sku). Each item's share is
  its value over the total, and its cumulative share includes itself.
- Class A while the cumulative share is at most the A threshold (default 80 %), class B while it
  is at most A + B (default 80 + 15 = 95 %), class C beyond (the last 5 %). This is the textbook
  reading of the table, compared exactly (no rounding of shares before comparing).
- The top-ranked item with a positive value is always class A, even when it alone passes the A
  threshold (a class A that holds the largest consumer is what a planner expects).
- Items with no consumption (or a negative one: more returned than issued) count as 0: class C,
  share 0. If nothing was consumed, all are C.
- Shares are reported to 4 places (0.8000 = 80 %); values are money, to the cent.
- Consumption value of an item over a period = quantity issued (issue movements only, not scrap,
  not adjustments) between ``start`` and ``end`` inclusive x its unit cost, rounded to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.inventory.domain.model import ZERO, Movement, MovementType, to_cents

SHARE_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class AbcThresholds:
    """Cumulative-share bands: A up to ``a``, B the next ``b``, C the rest."""

    a: Decimal = Decimal("0.80")
    b: Decimal = Decimal("0.15")

    def __post_init__(self) -> None:
        if self.a <= 0 or self.b < 0 or self.a + self.b > 1:
            raise ValueError("ABC thresholds need 0 < a, 0 <= b and a + b <= 1")


@dataclass(frozen=True, slots=True)
class AbcLine:
    """The class of one sku and the figures behind it."""

    sku: str
    value: Decimal
    share: Decimal
    cumulative_share: Decimal
    rank: int
    abc_class: str


def _share(part: Decimal, total: Decimal) -> Decimal:
    if total == 0:
        return ZERO.quantize(SHARE_QUANTUM)
    return (part / total).quantize(SHARE_QUANTUM, rounding=ROUND_HALF_UP)


def classify_abc(values: Mapping[str, Decimal], thresholds: AbcThresholds | None = None) -> list[AbcLine]:
    """Rank skus by consumption value and give each its ABC class (see module rules)."""
    bands = thresholds or AbcThresholds()
    ranked = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    total = sum((max(v, ZERO) for _, v in ranked), ZERO)
    lines: list[AbcLine] = []
    cumulative = ZERO
    for rank, (sku, value) in enumerate(ranked, start=1):
        counted = max(value, ZERO)
        cumulative += counted
        if counted == 0:
            abc_class = "C"
        elif rank == 1 or cumulative <= bands.a * total:
            abc_class = "A"
        elif cumulative <= (bands.a + bands.b) * total:
            abc_class = "B"
        else:
            abc_class = "C"
        lines.append(
            AbcLine(sku, to_cents(value), _share(counted, total), _share(cumulative, total), rank, abc_class)
        )
    return lines


def consumption_value(
    movements: Iterable[Movement], unit_costs: Mapping[str, Decimal], *, start: date, end: date
) -> dict[str, Decimal]:
    """Issued quantity x unit cost per sku for issues dated ``start`` to ``end`` inclusive (cents).

    A sku issued without a known unit cost is valued at 0.
    """
    quantities: dict[str, Decimal] = {}
    for m in movements:
        if m.type is MovementType.ISSUE and start <= m.at.date() <= end:
            quantities[m.sku] = quantities.get(m.sku, ZERO) + m.qty
    return {sku: to_cents(qty * unit_costs.get(sku, ZERO)) for sku, qty in sorted(quantities.items())}
