"""Stock valuation: FIFO, weighted average, standard; now or as of a date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.inventory import handlers
from services.inventory.api.schemas import ItemValuePublic, ValuationPublic, parse_as_of
from services.inventory.domain.valuation import CostMethod
from shared.web.app import SessionDep

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


@router.get(
    "/valuation",
    operation_id="inventory_get_valuation",
    response_model=ValuationPublic,
    summary="Value per sku and total, by FIFO, weighted average or standard cost, now or as of a date",
)
async def get_valuation(
    session: SessionDep,
    method: CostMethod = CostMethod.FIFO,
    as_of: Annotated[str | None, Query(description="Date (its whole UTC day) or timestamp")] = None,
    sku: str | None = None,
) -> ValuationPublic:
    items, total, missing = await handlers.valuation(session, method, as_of=parse_as_of(as_of), sku=sku)
    return ValuationPublic(
        method=method,
        as_of=as_of,
        items=[
            ItemValuePublic(
                sku=i.sku,
                qty=i.qty,
                unit_cost=i.unit_cost,
                value=i.value,
                purchase_price_variance=i.purchase_price_variance,
            )
            for i in items
        ],
        total=total,
        missing_standard_costs=missing,
    )
