"""The local stock replica: ``POST /v1/mrp/stock/resync``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.mrp.api.deps import MrpStateDep
from services.mrp.api.schemas import StockSyncResult
from services.mrp.handlers.stock import resync_stock
from shared.web.app import runtime_of
from shared.web.problems import ServiceUnavailable

router = APIRouter(prefix="/v1/mrp", tags=["mrp"])


@router.post(
    "/stock/resync",
    operation_id="mrp_resync_stock",
    summary="Replace the local stock replica with inventory's balances now",
    responses={503: {"description": "Inventory did not answer (problem)"}},
)
async def resync(request: Request, state: MrpStateDep) -> StockSyncResult:
    try:
        positions, changed = await resync_stock(runtime_of(request).sessionmaker, state.inventory)
    except Exception as exc:
        raise ServiceUnavailable(
            f"inventory's balances could not be read: {type(exc).__name__}", headers={"Retry-After": "5"}
        ) from exc
    return StockSyncResult(positions=positions, changed_skus=changed)
