"""The mrp service: ``uvicorn --factory services.mrp.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.mrp.settings import MrpSettings
from shared.web.app import create_service_app


def create_app(settings: MrpSettings | None = None) -> FastAPI:
    settings = settings or MrpSettings()
    return create_service_app(
        settings,
        title="Jalon MRP",
        description=(
            "Sales orders (EDI included), forecasts, S&OP, MPS, MRP netting runs with pegging "
            "and action messages, and the order book."
        ),
        replicas=["masterdata"],
    )
