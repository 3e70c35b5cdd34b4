"""The capacity service: ``uvicorn --factory services.capacity.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.capacity.settings import CapacitySettings
from shared.web.app import create_service_app


def create_app(settings: CapacitySettings | None = None) -> FastAPI:
    settings = settings or CapacitySettings()
    return create_service_app(
        settings,
        title="Jalon capacity",
        description=(
            "Operation milestones, load versus capacity per work center, rough-cut checks and "
            "costed overload proposals."
        ),
        replicas=["masterdata"],
    )
