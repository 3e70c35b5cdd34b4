"""ABC classification, reorder parameters and stock KPIs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from services.inventory import handlers
from services.inventory.api.schemas import (
    AbcLinePublic,
    AbcPublic,
    AgeingPublic,
    KpiItem,
    KpisPublic,
    ReorderPublic,
    SettingsDep,
)
from services.inventory.domain.reorder import StockStatus
from shared.web.app import SessionDep

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])

FromQuery = Annotated[date | None, Query(alias="from", description="Default: a year before 'to'")]


@router.get(
    "/abc",
    operation_id="inventory_get_abc",
    response_model=AbcPublic,
    summary="ABC class per sku by consumption value, with the figures behind it",
)
async def get_abc(
    session: SessionDep,
    settings: SettingsDep,
    from_: FromQuery = None,
    to: date | None = None,
    a: Annotated[Decimal | None, Query(gt=0, le=1, description="A band (default 0.80)")] = None,
    b: Annotated[Decimal | None, Query(ge=0, le=1, description="B band (default 0.15)")] = None,
) -> AbcPublic:
    end = to or handlers.utcnow().date()
    start = from_ or (end - timedelta(days=364))
    a_band = a if a is not None else settings.abc_a
    b_band = b if b is not None else settings.abc_b
    results = await handlers.abc(session, start=start, end=end, a=a_band, b=b_band)
    return AbcPublic(
        from_=start,
        to=end,
        thresholds={"a": a_band, "b": b_band, "c": 1 - a_band - b_band},
        total_value=sum((r.line.value for r in results if r.line.value > 0), Decimal(0)),
        items=[
            AbcLinePublic(
                sku=r.line.sku,
                abc_class=r.line.abc_class,
                rank=r.line.rank,
                issued_qty=r.issued_qty,
                unit_cost=r.unit_cost,
                value=r.line.value,
                share=r.line.share,
                cumulative_share=r.line.cumulative_share,
            )
            for r in results
        ],
    )


@router.get(
    "/reorder-parameters/{sku}",
    operation_id="inventory_get_reorder_parameters",
    response_model=ReorderPublic,
    summary="Suggested safety stock (z·σ·√L) and reorder point from the issue history",
)
async def get_reorder_parameters(
    sku: str,
    session: SessionDep,
    settings: SettingsDep,
    service_level: Annotated[Decimal | None, Query(gt=0, lt=1, description="Default 0.95")] = None,
    lead_time_days: Annotated[Decimal | None, Query(ge=0, description="Default: the item's")] = None,
    period_days: Annotated[int, Query(ge=1, le=366)] = 7,
    periods: Annotated[int, Query(ge=2, le=520)] = 26,
    on: date | None = None,
    quantum: Annotated[Decimal, Query(gt=0)] = Decimal(1),
) -> ReorderPublic:
    figures, demand, level, lead = await handlers.reorder_parameters(
        session,
        settings,
        sku,
        service_level=service_level,
        lead_time_days=lead_time_days,
        period_days=period_days,
        periods=periods,
        on=on or handlers.utcnow().date(),
        quantum=quantum,
    )
    return ReorderPublic(
        sku=sku,
        service_level=level,
        lead_time_days=lead,
        period_days=period_days,
        periods=periods,
        demand=demand,
        mean_demand=figures.mean_demand,
        sigma=figures.sigma,
        z=figures.z,
        lead_time_periods=figures.lead_time_periods,
        safety_stock=figures.safety_stock,
        reorder_point=figures.reorder_point,
    )


@router.get(
    "/kpis",
    operation_id="inventory_get_kpis",
    response_model=KpisPublic,
    summary="Stock turnover, days of coverage, dormant and obsolete stock over a period",
)
async def get_kpis(
    session: SessionDep,
    settings: SettingsDep,
    from_: FromQuery = None,
    to: date | None = None,
    sku: str | None = None,
) -> KpisPublic:
    end = to or handlers.utcnow().date()
    start = from_ or (end - timedelta(days=364))
    k = await handlers.kpis(session, settings, start=start, end=end, sku=sku)

    def ageing(status: StockStatus) -> list[AgeingPublic]:
        return [
            AgeingPublic(
                sku=a.key.sku,
                location=a.key.location,
                lot=a.key.lot,
                on_hand=a.on_hand,
                last_movement=a.last_movement,
                idle_days=a.idle_days,
                status=a.status.value,
                reason=a.reason,
            )
            for a in k.ageing
            if a.status is status
        ]

    return KpisPublic(
        from_=k.start,
        to=k.end,
        cost_of_goods_issued=k.cogs,
        average_stock_value=k.average_stock_value,
        stock_value=k.stock_value,
        turnover=k.turnover,
        days_of_coverage=k.days_of_coverage,
        items=[KpiItem(**i) for i in k.items],
        dormant=ageing(StockStatus.DORMANT),
        obsolete=ageing(StockStatus.OBSOLETE),
    )
