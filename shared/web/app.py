"""The service app factory: one skeleton for every Jalon service.

``create_service_app`` wires what every service has: problem responses, correlation ids, structured
logs, Prometheus metrics, ``/livez`` ``/readyz`` ``/metrics``, ``GET /v1/<service>/info``, and a
lifespan that owns the database engine, the NATS connection, the outbox relay and the consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Gauge
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db.engine import SessionMaker, make_engine, make_sessionmaker
from shared.db.migrations import current_revision
from shared.db.uow import UnitOfWork
from shared.logging import configure_logging, get_logger
from shared.messaging.connection import NatsConnection
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.replica import Replica, ReplicaStatus
from shared.settings import ServiceSettings
from shared.web.problems import NotFound, ServiceUnavailable, install_problem_handlers

CORRELATION_HEADER = "X-Correlation-ID"
log = get_logger(__name__)


@dataclass
class ServiceRuntime:
    """What a running service owns; on ``app.state.runtime``."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessionmaker: SessionMaker
    nats: NatsConnection | None
    relay: OutboxRelay | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    replicas: dict[str, Replica] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, on_commit=self.relay.wake if self.relay else None)


ConsumerFactory = Callable[[ServiceRuntime], Sequence[EventConsumer]]
Worker = Callable[[ServiceRuntime], Coroutine[Any, Any, None]]


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def get_uow(request: Request) -> UnitOfWork:
    return runtime_of(request).uow()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).sessionmaker() as session:
        yield session


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


class ServiceInfo(BaseModel):
    name: str
    version: str
    schema_revision: str | None
    started_at: datetime
    nats_connected: bool


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


async def check_database(runtime: ServiceRuntime) -> str:
    try:
        async with asyncio.timeout(2):
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"failing: {type(exc).__name__}"


def _platform_router(service: str, *, replicated: bool) -> APIRouter:
    router = APIRouter()

    @router.get("/livez", include_in_schema=False)
    async def livez() -> Health:
        return Health(status="ok")

    @router.get("/readyz", include_in_schema=False, response_model=Health)
    async def readyz(runtime: RuntimeDep) -> Any:
        checks = {
            "database": await check_database(runtime),
        }
        if runtime.nats is not None:
            checks["nats"] = "ok" if runtime.nats.is_connected else "failing: not connected"

        if all(v == "ok" for v in checks.values()):
            return Health(status="ok", checks=checks)
        return JSONResponse(
            status_code=503,
            media_type="application/problem+json",
            content=ServiceUnavailable(f"{service} is not ready", checks=checks).marshal(),
        )

    @router.get(
        f"/v1/{service}/info",
        tags=[service],
        operation_id=f"{service}_get_info",
        summary=f"Name, version and schema revision of the {service} service",
    )
    async def get_info(runtime: RuntimeDep) -> ServiceInfo:
        try:
            async with runtime.engine.connect() as conn:
                revision = await current_revision(conn)
        except Exception as exc:
            raise ServiceUnavailable(f"database unavailable: {type(exc).__name__}") from exc
        return ServiceInfo(
            name=service,
            version=runtime.settings.version,
            schema_revision=revision,
            started_at=runtime.started_at,
            nats_connected=runtime.nats is not None and runtime.nats.is_connected,
        )

    if replicated:

        @router.get(
            f"/v1/{service}/replicas",
            tags=[service],
            operation_id=f"{service}_list_replicas",
            summary="The local replicas of other services' data: position and size",
        )
        async def list_replicas(runtime: RuntimeDep) -> list[ReplicaStatus]:
            return [await r.status() for r in runtime.replicas.values()]

        @router.post(
            f"/v1/{service}/replicas/{{source}}/resync",
            tags=[service],
            operation_id=f"{service}_resync_replica",
            summary="Replace a replica from its owner's export now",
        )
        async def resync_replica(source: str, runtime: RuntimeDep) -> ReplicaStatus:
            replica = runtime.replicas.get(source)
            if replica is None:
                raise NotFound(f"{service} keeps no replica of {source!r}")
            return await replica.resync()

    return router


def _register_runtime_metrics(runtime: ServiceRuntime) -> None:
    pending = Gauge(
        "jalon_outbox_published_total",
        "Events this process has published from the outbox",
        registry=runtime.metrics,
    )
    pending.set_function(lambda: runtime.relay.published_total if runtime.relay else 0)
    applied = Gauge(
        "jalon_events_applied_total",
        "Events applied by this process's consumers",
        registry=runtime.metrics,
    )
    applied.set_function(lambda: sum(c.applied for c in runtime.consumers))
    dead = Gauge(
        "jalon_events_dead_lettered_total",
        "Events this process's consumers moved to the dead-letter subject",
        registry=runtime.metrics,
    )
    dead.set_function(lambda: sum(c.dead_lettered for c in runtime.consumers))


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    consumers: ConsumerFactory | None = None,
    workers: Sequence[Worker] = (),
    publishes_events: bool = True,
    messaging: bool = True,
    replicas: Sequence[str] = (),
    on_startup: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
    on_shutdown: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
) -> FastAPI:
    service = settings.service_name
    configure_logging(service, settings.log_level, json=settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        runtime = ServiceRuntime(
            settings=settings,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            nats=NatsConnection(settings.nats_url, name=f"jalon-{service}") if messaging else None,
            metrics=app.state.metrics_registry,
        )
        _register_runtime_metrics(runtime)
        if runtime.nats is not None:
            runtime.nats.start()
        if settings.run_workers and runtime.nats is not None:
            if publishes_events:
                runtime.relay = OutboxRelay(
                    runtime.sessionmaker, runtime.nats, poll_interval_s=settings.outbox_poll_interval_s
                )
                runtime.relay.start()
            for source in replicas:
                replica = Replica(
                    source=source,
                    consumer_name=f"{service}-{source}-replica",
                    sessionmaker=runtime.sessionmaker,
                    nats=runtime.nats,
                    export_url=f"{settings.service_url(source)}/v1/{source}/export",
                )
                runtime.replicas[source] = replica
                runtime.consumers.append(replica.consumer(max_deliver=settings.consumer_max_deliver))
                replica.start()
            if consumers is not None:
                runtime.consumers += list(consumers(runtime))
            for consumer in runtime.consumers:
                consumer.start()
            for worker in workers:
                runtime.background.append(asyncio.create_task(worker(runtime)))
        app.state.runtime = runtime
        if on_startup is not None:
            await on_startup(runtime)
        log.info("service started", version=settings.version)
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown(runtime)
            for task in runtime.background:
                task.cancel()
            for task in runtime.background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for consumer in runtime.consumers:
                await consumer.stop()
            for replica in runtime.replicas.values():
                await replica.stop()
            if runtime.relay is not None:
                await runtime.relay.stop()
            if runtime.nats is not None:
                await runtime.nats.close()
            await engine.dispose()
            log.info("service stopped")

    app = FastAPI(
        title=title,
        description=description,
        version=settings.version,
        lifespan=lifespan,
        openapi_url=f"/v1/{service}/openapi.json",
        docs_url=f"/v1/{service}/docs",
        redoc_url=None,
    )
    app.state.metrics_registry = CollectorRegistry()
    install_problem_handlers(app)
    app.add_middleware(CorrelationIdMiddleware, header_name=CORRELATION_HEADER)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "Retry-After", CORRELATION_HEADER],
        )
    Instrumentator(
        registry=app.state.metrics_registry,
        excluded_handlers=["/metrics", "/livez", "/readyz"],
    ).instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)
    app.include_router(_platform_router(service, replicated=bool(replicas)))
    for router in routers:
        app.include_router(router)
    return app
