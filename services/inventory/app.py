"""The inventory service: ``uvicorn --factory services.inventory.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.api import routers
from services.inventory.events import consumers
from services.inventory.settings import InventorySettings
from shared.web.app import create_service_app


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    return create_service_app(
        settings,
        title="Jalon inventory",
        description=(
            "Locations, lots, the stock ledger, reservations, valuation (FIFO, weighted "
            "average, standard), physical counts and ABC."
        ),
        routers=routers(),
        consumers=consumers,
        replicas=["masterdata"],
    )
