"""The capacity service: ``uvicorn --factory services.capacity.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.capacity.api.analyses import router as analyses_router
from services.capacity.api.rough_cut import router as rough_cut_router
from services.capacity.handlers import AnalysisRunner
from services.capacity.settings import CapacitySettings
from shared.web.app import ServiceRuntime, create_service_app


def create_app(settings: CapacitySettings | None = None) -> FastAPI:
    settings = settings or CapacitySettings()
    runner = AnalysisRunner(settings)

    async def startup(runtime: ServiceRuntime) -> None:
        runner.runtime = runtime

    async def shutdown(_runtime: ServiceRuntime) -> None:
        await runner.close()

    app = create_service_app(
        settings,
        title="Jalon capacity",
        description=(
            "Operation milestones, load versus capacity per work center, rough-cut checks and "
            "costed overload proposals."
        ),
        routers=[analyses_router, rough_cut_router],
        replicas=["masterdata"],
        workers=[runner.recover],
        on_startup=startup,
        on_shutdown=shutdown,
    )
    app.state.capacity_runner = runner
    return app
