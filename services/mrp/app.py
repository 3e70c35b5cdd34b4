"""The mrp service: ``uvicorn --factory services.mrp.app:create_app``."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.mrp import events
from services.mrp.api import orders, planning, runs, sales_orders, stock
from services.mrp.api.deps import MrpState
from services.mrp.db import repositories as repo
from services.mrp.handlers.runs import MrpRunner
from services.mrp.handlers.stock import InventoryClient, resync_stock_forever
from services.mrp.settings import MrpSettings
from shared.logging import get_logger
from shared.web.app import ServiceRuntime, create_service_app

log = get_logger(__name__)


def create_app(settings: MrpSettings | None = None) -> FastAPI:
    settings = settings or MrpSettings()
    state = MrpState(
        settings=settings,
        inventory=InventoryClient(settings.service_url("inventory"), timeout_s=settings.inventory_timeout_s),
    )

    async def startup(runtime: ServiceRuntime) -> None:
        async with runtime.sessionmaker() as session, session.begin():
            failed = await repo.fail_abandoned_runs(session)
        if failed:
            log.warning("runs left unfinished by a previous process marked failed", runs=failed)
        state.runner = MrpRunner(runtime)
        if settings.run_workers and settings.stock_resync_at_start:
            runtime.background.append(
                asyncio.create_task(resync_stock_forever(runtime.sessionmaker, state.inventory))
            )

    async def shutdown(_runtime: ServiceRuntime) -> None:
        if state.runner is not None:
            await state.runner.stop()

    app = create_service_app(
        settings,
        title="Jalon MRP",
        description=(
            "Sales orders (EDI included), forecasts, S&OP, MPS, MRP netting runs with pegging "
            "and action messages, and the order book."
        ),
        routers=[sales_orders.router, orders.router, runs.router, stock.router, planning.router],
        consumers=events.consumers,
        replicas=["masterdata"],
        on_startup=startup,
        on_shutdown=shutdown,
    )
    app.state.mrp = state
    return app
