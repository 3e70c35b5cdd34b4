"""Stock valuation: FIFO, weighted average, standard; now or as of a date."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.inventory import handlers
from services.inventory.api.movements import json_document
from services.inventory.api.schemas import ValuationPublic, parse_as_of
from services.inventory.db import repositories as repo
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
) -> Response:
    when = parse_as_of(as_of)
    items, total, missing = await repo.valuation_json(
        session, method.value, sku=sku, before=handlers.as_of_cutoff(when)
    )
    return json_document(
        method=json.dumps(method.value),
        as_of=json.dumps(as_of),
        items=items,
        total=total,
        missing_standard_costs=json.dumps(missing),
    )
