"""CRUD of every master-data record kind: ``PUT`` (create or replace), ``GET``, ``DELETE``, list.

- ``PUT`` answers 201 on creation, 200 on replacement (and on a body equal to what is stored,
  which changes nothing: same version, no event), with ``ETag: "<version>"``; ``If-Match`` is
  honoured (412 when stale; ``*`` requires the record to exist).
- ``DELETE`` answers 204; 409 naming the referrers while anything refers to the record (an item in
  a BOM, a work center in a routing, a calendar of a work center...).
- Lists are pages in key order (``page_size``, ``page_token``); items filter by ``kind``,
  ``family``, ``phantom`` and sku prefix ``q``.
- Every write is validated as the would-be state of the whole data set (422 naming field and record)
  and serialised with the others; see :mod:`services.masterdata.handlers`.

Seeds: none. Units, families and calendars are plant data like any other and arrive through this
API or an import, so each has a version, a history and an event. The one name with a meaning is
the calendar ``plant`` (MRP's working days); without it readers assume Monday–Friday, no holidays.
"""

# No "from __future__ import annotations": the route factories annotate with per-kind classes.

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.masterdata.api.deps import CatalogDep, ClientDep
from services.masterdata.api.schemas import BODIES, Body, body_record
from services.masterdata.db import repositories as repo
from services.masterdata.domain.model import ItemKind
from services.masterdata.events import KEY_FIELDS, conversion_key, from_record, to_record
from services.masterdata.handlers import Catalog, apply_changes, batch_of
from shared.web.app import SessionDep, UowDep
from shared.web.etag import check_if_match, etag
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import NotFound, ValidationFailed

PREFIX = "/v1/masterdata"
PageDep = Annotated[PageParams, Depends(page_params)]


@dataclass(frozen=True)
class Ident:
    key: str
    fields: dict[str, Any]  # the key fields of the record, from the path


def public(
    kind: str, record: dict[str, Any], version: int, low_level_code: int | None = None
) -> dict[str, Any]:
    out = dict(record)
    out["version"] = version
    if kind == "item":
        out["low_level_code"] = low_level_code or 0
    return out


def _answer(body: dict[str, Any], version: int, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": etag(version)})


def _stored_public(kind: str, stored: repo.StoredRecord) -> dict[str, Any]:
    return public(kind, json.loads(stored.record), stored.version, stored.low_level_code)


def _record_from_body(kind: str, ident: Ident, body: Body) -> Any:
    rec = body_record(body)
    for name, value in ident.fields.items():
        given = rec.get(name)
        if given is not None and given != value:
            raise ValidationFailed.one(
                name, f"{name} '{given}' in the body differs from '{value}' in the path", code="key_mismatch"
            )
        rec[name] = value
    return from_record(kind, rec)


def _low_level_code(catalog: Catalog, kind: str, key: str) -> int | None:
    if kind != "item" or key not in catalog.graph:
        return None
    return catalog.graph.low_level_code(key)


def record_router(
    kind: str,
    segment: str,
    noun: str,
    plural: str,
    ident_dep: Callable[..., Ident],
    path: str,
    list_filters: Callable[..., dict[str, Any]] | None = None,
) -> APIRouter:
    body_model = BODIES[kind]
    router = APIRouter(prefix=PREFIX, tags=["masterdata"])
    IdentDep = Annotated[Ident, Depends(ident_dep)]
    what = noun.replace("_", " ")

    @router.put(
        f"/{segment}{path}",
        operation_id=f"masterdata_put_{noun}",
        summary=f"Create or replace a {what}",
        response_model=dict[str, Any],
        responses={
            201: {"description": "Created"},
            412: {"description": "If-Match names another version"},
        },
    )
    async def put_record(
        request: Request,
        ident: IdentDep,
        body: body_model,  # type: ignore[valid-type]
        uow: UowDep,
        catalog: CatalogDep,
        client: ClientDep,
    ) -> Response:
        obj = _record_from_body(kind, ident, body)

        def precheck(c: Catalog) -> None:
            check_if_match(request, c.versions[kind].get(ident.key), f"{what} {ident.key!r}")

        async with catalog.lock:
            async with uow:
                outcome = await apply_changes(
                    uow, catalog, batch_of(kind, [obj]), by=client, precheck=precheck
                )
                await uow.commit()
            version = catalog.versions[kind][ident.key]
            llc = _low_level_code(catalog, kind, ident.key)
        created = any(ch.op == "create" for ch in outcome.changes if ch.kind == kind)
        return _answer(public(kind, to_record(kind, obj), version, llc), version, 201 if created else 200)

    @router.get(
        f"/{segment}{path}",
        operation_id=f"masterdata_get_{noun}",
        summary=f"One {what}, with its ETag",
        response_model=dict[str, Any],
    )
    async def get_record(ident: IdentDep, session: SessionDep) -> Response:
        stored = await repo.get_record(await repo.raw_of(session), kind, ident.key)
        if stored is None:
            raise NotFound(f"no {what} {ident.key!r}")
        return _answer(_stored_public(kind, stored), stored.version)

    @router.delete(
        f"/{segment}{path}",
        operation_id=f"masterdata_delete_{noun}",
        summary=f"Delete a {what} nothing refers to",
        status_code=204,
        responses={409: {"description": "Still referred to; the problem lists the referrers"}},
    )
    async def delete_record(
        request: Request, ident: IdentDep, uow: UowDep, catalog: CatalogDep, client: ClientDep
    ) -> Response:
        def precheck(c: Catalog) -> None:
            current = c.versions[kind].get(ident.key)
            if current is None:
                raise NotFound(f"no {what} {ident.key!r}")
            check_if_match(request, current, f"{what} {ident.key!r}")

        async with catalog.lock, uow:
            await apply_changes(
                uow,
                catalog,
                batch_of(kind, []),
                deletes=[(kind, ident.key)],
                by=client,
                precheck=precheck,
            )
            await uow.commit()
        return Response(status_code=204)

    filters_dep = list_filters or (lambda: {})
    FiltersDep = Annotated[dict[str, Any], Depends(filters_dep)]

    @router.get(
        f"/{segment}",
        operation_id=f"masterdata_list_{plural}",
        summary=f"{plural.replace('_', ' ').capitalize()}, in key order, a page at a time",
        response_model=dict[str, Any],
    )
    async def list_records(page: PageDep, filters: FiltersDep, session: SessionDep) -> Response:
        after = page.after()
        prefix = filters.pop("_prefix", None)
        rows = await repo.list_records(
            await repo.raw_of(session),
            kind,
            after=str(after[0]) if after else None,
            limit=page.page_size + 1,
            filters=filters,
            prefix=prefix,
        )
        more = len(rows) > page.page_size
        rows = rows[: page.page_size]
        return JSONResponse(
            {
                "items": [_stored_public(kind, r) for r in rows],
                "next_page_token": encode_token([rows[-1].key]) if more and rows else None,
            }
        )

    return router


def _path_ident(param: str, key_field: str) -> Callable[..., Ident]:
    def ident(key: Annotated[str, Path(alias=param, min_length=1, max_length=200)]) -> Ident:
        return Ident(key, {key_field: key})

    return ident


def _conversion_ident(
    from_uom: Annotated[str, Path(min_length=1)],
    to_uom: Annotated[str, Path(min_length=1)],
    sku: Annotated[str | None, Query(description="Only for this item")] = None,
) -> Ident:
    return Ident(conversion_key(from_uom, to_uom, sku), {"from_uom": from_uom, "to_uom": to_uom, "sku": sku})


def _item_filters(
    kind: Annotated[ItemKind | None, Query()] = None,
    family: Annotated[str | None, Query()] = None,
    phantom: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(description="sku prefix")] = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind is not None:
        out["kind"] = kind.value
    if family is not None:
        out["family"] = family
    if phantom is not None:
        out["phantom"] = phantom
    if q:
        out["_prefix"] = q
    return out


def routers() -> list[APIRouter]:
    specs = [
        ("item", "items", "item", "items", "sku", _item_filters),
        ("bom", "boms", "bom", "boms", "parent_sku", None),
        ("routing", "routings", "routing", "routings", "sku", None),
        ("work_center", "work-centers", "work_center", "work_centers", "code", None),
        ("calendar", "calendars", "calendar", "calendars", "code", None),
        ("supplier", "suppliers", "supplier", "suppliers", "code", None),
        ("unit", "units", "unit", "units", "code", None),
        ("family", "families", "family", "families", "code", None),
    ]
    out = [
        record_router(
            kind,
            segment,
            noun,
            plural,
            _path_ident(param, KEY_FIELDS[kind]),
            f"/{{{param}}}",
            filters,
        )
        for kind, segment, noun, plural, param, filters in specs
    ]
    out.append(
        record_router(
            "unit_conversion",
            "unit-conversions",
            "unit_conversion",
            "unit_conversions",
            _conversion_ident,
            "/{from_uom}/{to_uom}",
        )
    )
    return out
