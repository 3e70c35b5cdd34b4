"""The masterdata service: ``uvicorn --factory services.masterdata.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.masterdata.settings import MasterDataSettings
from shared.web.app import create_service_app


def create_app(settings: MasterDataSettings | None = None) -> FastAPI:
    settings = settings or MasterDataSettings()
    return create_service_app(
        settings,
        title="Jalon master data",
        description=(
            "Items, units, families, multi-level BOMs, routings, work centers, calendars and "
            "suppliers: the plant's technical data, validated and published."
        ),
    )
