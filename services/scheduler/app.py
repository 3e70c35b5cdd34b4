"""The scheduler service: ``uvicorn --factory services.scheduler.app:create_app``.

The API only enqueues and reads: explicit solves run in ``python -m services.scheduler.worker``.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.scheduler.api.schedules import router as schedules_router
from services.scheduler.api.shopfloor import router as shopfloor_router
from services.scheduler.api.solves import router as solves_router
from services.scheduler.settings import SchedulerSettings
from shared.web.app import create_service_app


def create_app(settings: SchedulerSettings | None = None) -> FastAPI:
    settings = settings or SchedulerSettings()
    return create_service_app(
        settings,
        title="Jalon scheduler",
        description=(
            "Finite-capacity scheduling with OR-Tools CP-SAT, dispatch lists and shop-floor confirmations."
        ),
        routers=[solves_router, schedules_router, shopfloor_router],
        replicas=["masterdata"],
    )
