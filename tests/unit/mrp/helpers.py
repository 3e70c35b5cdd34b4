"""Builders shared by the MRP unit tests. Today is Monday 2026-11-02 unless a test says otherwise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.mrp.domain.model import RunParameters, Snapshot
from services.mrp.domain.netting import run_mrp
from services.mrp.domain.reference import reference_run
from services.mrp.domain.result import MrpResult

TODAY = date(2026, 11, 2)  # a Monday


def d(day: int, month: int = 11) -> date:
    """A date of 2026 (November by default)."""
    return date(2026, month, day)


def q(value: str | int) -> Decimal:
    return Decimal(value)


def params(horizon_days: int = 28, **kwargs: object) -> RunParameters:
    return RunParameters(today=TODAY, horizon_days=horizon_days, **kwargs)  # type: ignore[arg-type]


def run(snapshot: Snapshot) -> MrpResult:
    """Run the engine and check that the plain reference agrees before returning the result."""
    result = run_mrp(snapshot)
    assert result == reference_run(snapshot)
    return result


def rows(result: MrpResult, sku: str) -> list[tuple[date, str, str, str, str, str, str]]:
    """The record as (date, gross, receipts, projected, net, planned receipts, releases), normalised."""
    return [
        (
            r.date,
            _n(r.gross_requirements),
            _n(r.scheduled_receipts),
            _n(r.projected_available),
            _n(r.net_requirements),
            _n(r.planned_receipts),
            _n(r.planned_releases),
        )
        for r in result.record(sku).rows
    ]


def _n(x: Decimal) -> str:
    return format(x.normalize(), "f")


def orders(result: MrpResult, sku: str) -> list[tuple[str, date, date]]:
    """(quantity, release date, due date) of the item's planned orders, normalised."""
    return [(_n(po.quantity), po.release_date, po.due_date) for po in result.orders_of(sku)]


def actions(result: MrpResult, sku: str | None = None) -> list[tuple[str, str, str, date, date | None]]:
    return [
        (a.kind.value, a.order_id, _n(a.quantity), a.date, a.new_date)
        for a in result.actions
        if sku is None or a.sku == sku
    ]
