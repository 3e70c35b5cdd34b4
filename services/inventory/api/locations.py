"""Locations (warehouse / zone / bin) and lots, with ETag / If-Match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from services.inventory import handlers
from services.inventory.api.schemas import (
    Code,
    FastUowDep,
    LocationList,
    LocationPublic,
    LocationPut,
    LotPublic,
    LotPut,
)
from services.inventory.db import repositories as repo
from services.inventory.domain.model import LocationKind
from shared.web.app import SessionDep
from shared.web.etag import check_if_match, set_etag
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import NotFound

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])
PageDep = Annotated[PageParams, Depends(page_params)]


def location_public(row: Any) -> LocationPublic:
    return LocationPublic(
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        parent=row.parent,
        nettable=row.nettable,
        allow_negative=row.allow_negative,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.put(
    "/locations/{code}",
    operation_id="inventory_put_location",
    response_model=LocationPublic,
    summary="Create or replace a location (If-Match honoured; 201 when created)",
    responses={201: {"model": LocationPublic}, 412: {"description": "Stale If-Match"}},
)
async def put_location(
    code: Code, body: LocationPut, request: Request, response: Response, uow: FastUowDep
) -> LocationPublic:
    async with uow:
        row, created = await handlers.put_location(
            uow.session,
            code,
            name=body.name,
            kind=body.kind.value,
            parent=body.parent,
            nettable=body.nettable,
            allow_negative=body.allow_negative,
            check=lambda version: check_if_match(request, version, f"location {code}"),
        )
        await uow.commit()
    response.status_code = 201 if created else 200
    set_etag(response, row.version)
    if created:
        response.headers["Location"] = f"/v1/inventory/locations/{code}"
    return location_public(row)


@router.get(
    "/locations/{code}",
    operation_id="inventory_get_location",
    response_model=LocationPublic,
    summary="One location (with its ETag)",
)
async def get_location(code: str, session: SessionDep, response: Response) -> LocationPublic:
    rows = await repo.location_rows(session, [code])
    if not rows:
        raise NotFound(f"no location {code!r}")
    set_etag(response, rows[0].version)
    return location_public(rows[0])


@router.get(
    "/locations",
    operation_id="inventory_list_locations",
    response_model=LocationList,
    summary="Every location, by code",
)
async def list_locations(session: SessionDep, page: PageDep) -> LocationList:
    rows = await repo.location_rows(session)
    after = page.after()
    if after:
        rows = [r for r in rows if r.code > str(after[0])]
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return LocationList(
        items=[location_public(r) for r in rows],
        next_page_token=encode_token([rows[-1].code]) if more and rows else None,
    )


def lot_public(row: Any) -> LotPublic:
    return LotPublic(
        sku=row.sku, code=row.code, received_at=row.received_at, expiry=row.expiry, version=row.version
    )


@router.put(
    "/lots/{sku}/{lot}",
    operation_id="inventory_put_lot",
    response_model=LotPublic,
    summary="Create or update a lot of a sku: its expiry, its receipt date (If-Match honoured)",
    responses={201: {"model": LotPublic}, 412: {"description": "Stale If-Match"}},
)
async def put_lot(
    sku: Code, lot: Code, body: LotPut, request: Request, response: Response, uow: FastUowDep
) -> LotPublic:
    async with uow:
        row, created = await handlers.put_lot(
            uow.session,
            sku,
            lot,
            expiry=body.expiry,
            received_at=body.received_at,
            check=lambda version: check_if_match(request, version, f"lot {sku}/{lot}"),
        )
        await uow.commit()
    response.status_code = 201 if created else 200
    set_etag(response, row.version)
    return lot_public(row)


@router.get(
    "/lots/{sku}/{lot}",
    operation_id="inventory_get_lot",
    response_model=LotPublic,
    summary="One lot (with its ETag)",
)
async def get_lot(sku: str, lot: str, session: SessionDep, response: Response) -> LotPublic:
    row = await handlers.get_lot(session, sku, lot)
    if row is None:
        raise NotFound(f"no lot {lot!r} of {sku!r}")
    set_etag(response, row.version)
    return lot_public(row)
