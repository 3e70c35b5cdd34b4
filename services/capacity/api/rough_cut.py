"""``POST /v1/capacity/rough-cut``: a production plan checked against capacity, synchronously."""

from __future__ import annotations

from fastapi import APIRouter

from services.capacity import handlers
from services.capacity.api.schemas import RoughCutCreate, RoughCutResult
from services.capacity.settings import CapacitySettings
from shared.web.app import RuntimeDep

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])


@router.post(
    "/rough-cut",
    operation_id="capacity_create_rough_cut",
    summary="Rough-cut capacity check of a plan (S&OP by family, MPS by sku) with bills of resources",
    description=(
        "Bill of resources per sku: minutes per unit on each work center of its routing, "
        "Σ (setup / lot + run per unit) / efficiency, lot = the item's lot-sizing quantity, else its "
        "min_qty, else 1. A family's bill is the average of its items' bills. Each plan line loads "
        "its bucket; capacity per bucket comes from the work centers' calendars. Lines whose sku "
        "has no routing, or whose family has no item with one, are warnings."
    ),
)
async def create_rough_cut(body: RoughCutCreate, runtime: RuntimeDep) -> RoughCutResult:
    settings = runtime.settings
    assert isinstance(settings, CapacitySettings)
    return RoughCutResult.model_validate(await handlers.rough_cut(runtime, settings, body))
