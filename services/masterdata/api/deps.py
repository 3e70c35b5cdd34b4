"""Dependencies of the masterdata routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.masterdata.handlers import Catalog
from shared.web.idempotency import CLIENT_HEADER


def catalog_of(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def client_of(request: Request) -> str | None:
    """Who writes: the API key id the gateway puts in ``X-Jalon-Client``."""
    return request.headers.get(CLIENT_HEADER)


CatalogDep = Annotated[Catalog, Depends(catalog_of)]
ClientDep = Annotated[str | None, Depends(client_of)]
