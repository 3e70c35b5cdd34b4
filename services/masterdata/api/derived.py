"""Derived data: explosion, where-used, cumulative lead time, cost roll-up, low-level codes, and
the change history. Computed on this process's catalog, brought to the last committed change."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.masterdata.api.deps import CatalogDep
from services.masterdata.api.schemas import (
    CostRollupOut,
    CumulativeLeadTimeOut,
    ExplosionOut,
    HistoryEntryOut,
    LowLevelCodeOut,
    WhereUsedOut,
)
from services.masterdata.db import repositories as repo
from services.masterdata.domain.costing import CostBreakdown, roll_up_costs
from services.masterdata.events import EXPORT_KINDS, jsonable
from services.masterdata.handlers import Catalog, explosion_body
from shared.web.app import RuntimeDep, SessionDep
from shared.web.pagination import Page, PageParams, encode_token, page_params
from shared.web.problems import NotFound, ValidationFailed

router = APIRouter(prefix="/v1/masterdata", tags=["masterdata"])
PageDep = Annotated[PageParams, Depends(page_params)]


def _today() -> date:
    return date.today()


def _known(catalog: Catalog, sku: str) -> None:
    if sku not in catalog.items:
        raise NotFound(f"no item {sku!r}")


@router.get(
    "/items/{sku}/explosion",
    operation_id="masterdata_get_explosion",
    summary="Multi-level BOM explosion at a date, with cumulated quantities and low-level codes",
    response_model=ExplosionOut,
)
async def get_explosion(
    sku: str,
    catalog: CatalogDep,
    runtime: RuntimeDep,
    at: Annotated[date | None, Query(description="Effectivity date (default today)")] = None,
    qty: Annotated[Decimal, Query(gt=0, description="Quantity of the item to explode")] = Decimal(1),
) -> JSONResponse:
    async with catalog.reading(runtime.engine):
        _known(catalog, sku)
        return JSONResponse(explosion_body(catalog, sku, at or _today(), qty))


@router.get(
    "/items/{sku}/where-used",
    operation_id="masterdata_get_where_used",
    summary="Parents of an item (single level) or every path up to the end items (all)",
    response_model=WhereUsedOut,
)
async def get_where_used(
    sku: str,
    catalog: CatalogDep,
    runtime: RuntimeDep,
    at: Annotated[date | None, Query(description="Only lines valid that day (default: every line)")] = None,
    levels: Annotated[Literal["single", "all"], Query()] = "single",
) -> JSONResponse:
    async with catalog.reading(runtime.engine):
        _known(catalog, sku)
        graph = catalog.graph
        lines = graph.where_used(sku, at) if levels == "single" else graph.where_used_multilevel(sku, at)
        body = {
            "sku": sku,
            "at": at.isoformat() if at else None,
            "levels": levels,
            "items": [
                {
                    "level": w.level,
                    "path": list(w.path),
                    "sku": w.sku,
                    "qty_per": jsonable(w.qty_per),
                    "quantity": jsonable(w.quantity),
                    "end_item": w.end_item,
                }
                for w in lines
            ],
        }
    return JSONResponse(body)


@router.get(
    "/items/{sku}/cumulative-lead-time",
    operation_id="masterdata_get_cumulative_lead_time",
    summary="Longest chain of lead times down to purchased parts, with its critical path",
    response_model=CumulativeLeadTimeOut,
)
async def get_cumulative_lead_time(
    sku: str,
    catalog: CatalogDep,
    runtime: RuntimeDep,
    at: Annotated[date | None, Query(description="Only lines valid that day (default: every line)")] = None,
) -> JSONResponse:
    async with catalog.reading(runtime.engine):
        _known(catalog, sku)
        clt = catalog.graph.cumulative_lead_time(sku, at)
    return JSONResponse(
        {"sku": sku, "days": clt.days, "critical_path": list(clt.critical_path), "at": jsonable(at)}
    )


def _cost(c: CostBreakdown) -> dict[str, Any]:
    return {
        "sku": c.sku,
        "total": jsonable(c.total),
        "material": jsonable(c.material),
        "run": jsonable(c.run),
        "setup": jsonable(c.setup),
        "purchased": jsonable(c.purchased),
        "rolled_run": jsonable(c.rolled_run),
        "rolled_setup": jsonable(c.rolled_setup),
        "per_level": [jsonable(v) for v in c.per_level],
        "source": c.source,
        "lot_size": jsonable(c.lot_size),
    }


@router.get(
    "/items/{sku}/cost-rollup",
    operation_id="masterdata_get_cost_rollup",
    summary="Standard cost roll-up at a date: this item's breakdown and each component's",
    response_model=CostRollupOut,
)
async def get_cost_rollup(
    sku: str,
    catalog: CatalogDep,
    runtime: RuntimeDep,
    at: Annotated[date | None, Query(description="Effectivity date (default today)")] = None,
) -> JSONResponse:
    day = at or _today()
    async with catalog.reading(runtime.engine):
        _known(catalog, sku)
        r = catalog.records
        costs = roll_up_costs(
            catalog.graph,
            r["item"],
            r["routing"],
            r["work_center"],
            at=day,
            suppliers=r["supplier"].values(),
            converter=catalog.converter(),
            only=[sku],
        )
    body = _cost(costs[sku])
    body["at"] = day.isoformat()
    body["components"] = [_cost(c) for s, c in costs.items() if s != sku]
    return JSONResponse(body)


@router.get(
    "/low-level-codes",
    operation_id="masterdata_list_low_level_codes",
    summary="Every item's low-level code, by code then sku",
    response_model=Page[LowLevelCodeOut],
)
async def list_low_level_codes(
    page: PageDep,
    session: SessionDep,
    min_code: Annotated[int | None, Query(ge=0, description="Only codes from this one")] = None,
) -> JSONResponse:
    after = page.after()
    start = (int(after[0]), str(after[1])) if after and len(after) == 2 else None
    rows = await repo.list_low_level_codes(
        await repo.raw_of(session), after=start, limit=page.page_size + 1, min_code=min_code
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return JSONResponse(
        {
            "items": [{"sku": s, "low_level_code": c, "version": v} for s, c, v in rows],
            "next_page_token": encode_token([rows[-1][1], rows[-1][0]]) if more and rows else None,
        }
    )


@router.get(
    "/history",
    operation_id="masterdata_list_history",
    summary="Changes in change order: what changed (field, old, new), when, by which key",
    response_model=Page[HistoryEntryOut],
)
async def list_history(
    page: PageDep,
    session: SessionDep,
    record_kind: Annotated[str | None, Query(description=f"One of {', '.join(EXPORT_KINDS)}")] = None,
    key: Annotated[str | None, Query()] = None,
    after_seq: Annotated[int | None, Query(ge=0, description="Only changes after this change number")] = None,
) -> JSONResponse:
    if record_kind is not None and record_kind not in EXPORT_KINDS:
        raise ValidationFailed.one("query.record_kind", f"unknown record kind {record_kind!r}")
    after = page.after()
    start = int(after[0]) if after else after_seq
    rows = await repo.list_history(
        await repo.raw_of(session), record_kind=record_kind, key=key, after=start, limit=page.page_size + 1
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    items = [
        {
            "seq": r["seq"],
            "record_kind": r["record_kind"],
            "key": r["key"],
            "version": r["version"],
            "op": r["op"],
            "changed_at": r["changed_at"].isoformat(),
            "changed_by": r["changed_by"],
            "import_id": r["import_id"],
            "changes": json.loads(r["changes"]),
        }
        for r in rows
    ]
    return JSONResponse(
        {"items": items, "next_page_token": encode_token([rows[-1]["seq"]]) if more and rows else None}
    )
