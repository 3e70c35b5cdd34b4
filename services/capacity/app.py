"""The capacity service: ``uvicorn --factory services.capacity.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from services.capacity import events, orders
from services.capacity.api.analyses import router as analyses_router
from services.capacity.api.orders import router as orders_router
from services.capacity.api.rough_cut import router as rough_cut_router
from services.capacity.handlers import AnalysisRunner
from services.capacity.settings import CapacitySettings
from shared.web.app import ServiceRuntime, create_service_app


def create_app(settings: CapacitySettings | None = None) -> FastAPI:
    settings = settings or CapacitySettings()
    runner = AnalysisRunner(settings)

    async def startup(runtime: ServiceRuntime) -> None:
        runner.runtime = runtime

    async def resync_orders_at_start(runtime: ServiceRuntime) -> None:
        if settings.capacity_orders_resync_at_start:
            await orders.resync_at_start(
                runtime.sessionmaker,
                mrp_url=settings.service_url("mrp"),
                timeout_s=settings.capacity_mrp_timeout_s,
                page_size=settings.capacity_mrp_page_size,
            )

    async def shutdown(_runtime: ServiceRuntime) -> None:
        await runner.close()

    app = create_service_app(
        settings,
        title="Jalon capacity",
        description=(
            "Operation milestones, load versus capacity per work center, rough-cut checks, "
            "costed overload proposals, firming a balanced MRP run, and a replica of mrp's order book."
        ),
        routers=[analyses_router, rough_cut_router, orders_router],
        consumers=events.consumers,
        replicas=["masterdata"],
        workers=[runner.recover, resync_orders_at_start],
        on_startup=startup,
        on_shutdown=shutdown,
    )
    app.state.capacity_runner = runner
    return app
