"""The masterdata service: ``uvicorn --factory services.masterdata.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.masterdata.api import derived, export, imports, resources
from services.masterdata.db import repositories as repo
from services.masterdata.handlers import Catalog
from services.masterdata.settings import MasterDataSettings
from shared.web.app import ServiceRuntime, create_service_app


def create_app(settings: MasterDataSettings | None = None) -> FastAPI:
    settings = settings or MasterDataSettings()
    catalog = Catalog()

    async def startup(runtime: ServiceRuntime) -> None:
        if not settings.load_catalog_at_start:
            return
        async with runtime.engine.connect() as plain:
            conn = await plain.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await catalog.load(await repo.raw_of(conn))

    app = create_service_app(
        settings,
        title="Jalon master data",
        description=(
            "Items, units, families, multi-level BOMs, routings, work centers, calendars and "
            "suppliers: the plant's technical data, validated and published."
        ),
        routers=[*resources.routers(), derived.router, imports.router, export.router],
        on_startup=startup,
    )
    app.state.catalog = catalog
    return app
