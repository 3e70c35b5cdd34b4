"""Rough-cut capacity check (bill of resources): does a production plan fit the work centers?

- Bill of resources of an item: minutes per unit on each work center of its routing,
  ``Σ over its operations on W of (setup_minutes / lot + run_minutes_per_unit) / efficiency(W)``,
  where ``lot`` is the item's lot-sizing ``quantity``, else its ``min_qty``, else 1 (the setup is
  spread over a typical lot). Alternates are not used: the plan is checked on primary routings.
- A family's bill is the plain average of the bills of its items that have a routing (a planner's
  "typical unit" of the family when the mix is not known).
- Load of a plan line ``(key, bucket, qty)``: ``qty × minutes per unit`` on each work center, all
  in the line's bucket. Capacity per bucket comes from the calendars (see ``load``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ResourceStep", "average_bill", "bill_of_resources", "rough_cut_load"]


@dataclass(frozen=True)
class ResourceStep:
    """One routing operation as the rough-cut needs it."""

    work_center: str
    setup_minutes: float
    run_minutes_per_unit: float


def bill_of_resources(
    steps: Iterable[ResourceStep], lot: float, efficiency: Mapping[str, float]
) -> dict[str, float]:
    """Minutes per unit on each work center (see module rules); ``lot`` ≤ 0 counts as 1."""
    lot = lot if lot > 0 else 1.0
    bill: dict[str, float] = {}
    for step in steps:
        eff = efficiency[step.work_center]
        if eff <= 0:
            raise ValueError(f"work center {step.work_center}: efficiency must be positive")
        minutes = (step.setup_minutes / lot + step.run_minutes_per_unit) / eff
        bill[step.work_center] = bill.get(step.work_center, 0.0) + minutes
    return bill


def average_bill(bills: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The plain average of several bills (a work center absent from a bill counts 0 there)."""
    if not bills:
        return {}
    out: dict[str, float] = {}
    for bill in bills:
        for wc, minutes in bill.items():
            out[wc] = out.get(wc, 0.0) + minutes
    return {wc: minutes / len(bills) for wc, minutes in out.items()}


def rough_cut_load(
    lines: Iterable[tuple[Mapping[str, float], int, float]],
    work_centers: Sequence[str],
    n_buckets: int,
) -> npt.NDArray[np.float64]:
    """Load minutes ``(work center, bucket)`` of plan lines ``(bill, bucket index, qty)``."""
    index = {code: i for i, code in enumerate(work_centers)}
    load = np.zeros((len(work_centers), n_buckets), dtype=np.float64)
    for bill, bucket, qty in lines:
        for wc, minutes in bill.items():
            load[index[wc], bucket] += qty * minutes
    return load
