"""Lot sizing of a shortage (PLANNING-SEMANTICS.md, "Lot sizing").

All quantities are micro-unit integers (see :mod:`services.mrp.domain.model`).

Rules:

- ``lot_for_lot``: ``q = s``.
- ``fixed``: ``q = quantity × ceil(s / quantity)``.
- ``period``: ``q = max over t in [d, forward(d, periods)) of (safety_stock − PAB_before(t))``;
  the engine computes the window's shortages, :func:`base_quantity` takes their maximum.
- ``eoq``: ``fixed`` with ``quantity = sqrt(2 × D × order_cost / (holding_rate × standard_cost))``,
  ``D`` the annualised gross requirement of the horizon (``gross × 365 / horizon_days``); the
  square root is rounded half up to 6 decimal places.
- Then, in order: ``q = max(q, min_qty)``; ``q = multiple × ceil(q / multiple)``; if
  ``q > max_qty``: ``floor(q / max_qty)`` orders of ``max_qty`` and, if something is left, one
  order of the rest, the rest raised to ``min_qty`` then to ``multiple`` and never split again.

Choices where the handbook is silent:

- ``fixed`` needs ``quantity > 0`` and ``period`` needs ``periods ≥ 1`` (else ``ValueError``);
  ``min_qty ≥ 0``, ``max_qty > 0``, ``multiple > 0`` when given.
- ``eoq`` falls back to ``lot_for_lot`` (before min / multiple / max) when the formula has no
  positive value: no gross requirement in the horizon, or a zero standard cost or holding rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import isqrt

from services.mrp.domain.model import LotRule, LotSizing, ceil_div, to_micro


@dataclass(frozen=True, slots=True)
class LotPolicy:
    """A resolved lot-sizing policy in micro-units; 0 means "not set" for the optional bounds."""

    rule: LotRule = LotRule.LOT_FOR_LOT
    quantity: int = 0
    periods: int = 1
    min_qty: int = 0
    max_qty: int = 0
    multiple: int = 0

    @staticmethod
    def from_lot_sizing(lot: LotSizing, sku: str = "") -> LotPolicy:
        """Validate master-data lot sizing and convert it (see the module rules)."""
        rule = LotRule(lot.rule)
        quantity = to_micro(lot.quantity, f"{sku} lot quantity") if lot.quantity is not None else 0
        periods = lot.periods if lot.periods is not None else 0
        if rule is LotRule.FIXED and quantity <= 0:
            raise ValueError(f"{sku}: the fixed lot-sizing rule needs a quantity > 0")
        if rule is LotRule.PERIOD and periods < 1:
            raise ValueError(f"{sku}: the period lot-sizing rule needs periods >= 1")
        min_qty = to_micro(lot.min_qty, f"{sku} min_qty") if lot.min_qty is not None else 0
        max_qty = to_micro(lot.max_qty, f"{sku} max_qty") if lot.max_qty is not None else 0
        multiple = to_micro(lot.multiple, f"{sku} multiple") if lot.multiple is not None else 0
        if min_qty < 0:
            raise ValueError(f"{sku}: min_qty must not be negative")
        if lot.max_qty is not None and max_qty <= 0:
            raise ValueError(f"{sku}: max_qty must be > 0")
        if lot.multiple is not None and multiple <= 0:
            raise ValueError(f"{sku}: multiple must be > 0")
        return LotPolicy(rule, quantity, max(periods, 1), min_qty, max_qty, multiple)


def eoq_quantity(
    horizon_gross: int,
    horizon_days: int,
    order_cost: Decimal,
    holding_rate: Decimal,
    standard_cost: Decimal,
) -> int:
    """EOQ in micro-units, ``sqrt(2 D S / (h c))`` rounded half up; 0 when it is not positive.

    ``D = horizon_gross × 365 / horizon_days`` (annualised), with ``horizon_gross`` in micro-units.
    """
    cost = Fraction(holding_rate) * Fraction(standard_cost)
    if horizon_gross <= 0 or cost <= 0 or order_cost <= 0:
        return 0
    # EOQ² in micro-units² = 2 × (G/10⁶ × 365 / days) × S / (h c) × 10¹²
    square = Fraction(2 * horizon_gross * 365 * 10**6, horizon_days) * Fraction(order_cost) / cost
    twice_floor = isqrt((4 * square.numerator) // square.denominator)  # floor(2 sqrt(square))
    return (twice_floor + 1) // 2


def base_quantity(policy: LotPolicy, shortage: int, window_max_shortage: int | None = None) -> int:
    """The rule's quantity before min / multiple / max.

    ``shortage`` is ``safety_stock − PAB_before(d)`` (> 0). For ``period`` the engine passes the
    largest shortage over the window; for ``eoq`` ``policy.quantity`` holds the computed EOQ
    (0 = fall back to lot-for-lot).
    """
    rule = policy.rule
    if rule is LotRule.PERIOD:
        return max(shortage, window_max_shortage or 0)
    if rule in (LotRule.FIXED, LotRule.EOQ) and policy.quantity > 0:
        return policy.quantity * ceil_div(shortage, policy.quantity)
    return shortage


def _raise_to_min_and_multiple(q: int, policy: LotPolicy) -> int:
    q = max(q, policy.min_qty)
    if policy.multiple > 0:
        q = policy.multiple * ceil_div(q, policy.multiple)
    return q


def adjust(policy: LotPolicy, q: int) -> list[int]:
    """Apply min, multiple and the max split to ``q``: the order quantities, all on the same date."""
    q = _raise_to_min_and_multiple(q, policy)
    if policy.max_qty <= 0 or q <= policy.max_qty:
        return [q]
    full, rest = divmod(q, policy.max_qty)
    quantities = [policy.max_qty] * full
    if rest > 0:
        quantities.append(_raise_to_min_and_multiple(rest, policy))
    return quantities


def size_lot(policy: LotPolicy, shortage: int, window_max_shortage: int | None = None) -> list[int]:
    """The planned-order quantities covering ``shortage`` under ``policy``."""
    return adjust(policy, base_quantity(policy, shortage, window_max_shortage))
