"""The gateway: one address, one OpenAPI surface, API keys with scopes, a per-key rate limit.

``uvicorn --factory services.gateway.app:create_app``
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from services.gateway import keys, openapi
from services.gateway.auth import Authenticator, Principal, ensure_bootstrap_key, list_keys
from services.gateway.proxy import Proxy
from services.gateway.settings import GatewaySettings
from services.gateway.tables import ApiKeyRow
from shared.apikeys import generate_key
from shared.db.platform import utcnow
from shared.runtime.topology import DOMAIN_SERVICES
from shared.web.app import ServiceRuntime, SessionDep, UowDep, create_service_app
from shared.web.idempotency import CLIENT_HEADER
from shared.web.problems import NotFound, ValidationFailed

SERVICE_NAMES = tuple(s.name for s in DOMAIN_SERVICES)


@dataclass
class GatewayState:
    settings: GatewaySettings
    auth: Authenticator | None = None
    proxy: Proxy | None = None
    openapi_cache: tuple[float, dict[str, Any]] | None = None
    upstreams: dict[str, str] = field(default_factory=dict)


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key")
    scopes: list[str] = Field(min_length=1, description=f"Any of {', '.join(keys.SCOPES)}")
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=10_000_000)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in keys.SCOPES]
        if unknown:
            raise ValueError(f"unknown scope(s) {unknown}; allowed: {list(keys.SCOPES)}")
        return sorted(set(value))


class ApiKeyPublic(BaseModel):
    id: str
    name: str
    scopes: list[str]
    rate_limit_per_minute: int
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself: shown once, store it now")


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]
    next_page_token: str | None = None


class ServiceHealth(BaseModel):
    service: str
    url: str
    status: str
    detail: dict[str, Any] | None = None
    latency_ms: float | None = None


class ServicesHealth(BaseModel):
    items: list[ServiceHealth]


def gateway_state(request: Request) -> GatewayState:
    return request.app.state.gateway


async def principal(request: Request) -> Principal:
    """Authenticate the key, check its scope for this method and path, apply its rate limit."""
    auth = gateway_state(request).auth
    assert auth is not None
    who = await auth.authenticate(request.headers.get("authorization"))
    auth.authorize(who, request.method, request.url.path)
    await auth.throttle(who)
    request.state.principal = who
    return who


PrincipalDep = Annotated[Principal, Depends(principal)]


def _public(row: ApiKeyRow) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(row, from_attributes=True)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    state = GatewayState(
        settings=settings,
        upstreams={s: settings.service_url(s) for s in SERVICE_NAMES},
    )

    async def startup(runtime: ServiceRuntime) -> None:
        state.auth = Authenticator(runtime.sessionmaker, cache_ttl_s=settings.key_cache_ttl_s)
        state.proxy = Proxy(
            connect_timeout_s=settings.upstream_connect_timeout_s, timeout_s=settings.upstream_timeout_s
        )
        if settings.bootstrap_api_key:
            async with runtime.sessionmaker() as session:
                await ensure_bootstrap_key(
                    session, settings.bootstrap_api_key, settings.default_rate_limit_per_minute
                )

    async def shutdown(_runtime: ServiceRuntime) -> None:
        if state.proxy is not None:
            await state.proxy.close()

    keys_router = APIRouter(prefix="/v1/gateway", tags=["gateway"], dependencies=[Depends(principal)])

    @keys_router.post(
        "/api-keys",
        status_code=201,
        operation_id="gateway_create_api_key",
        response_model=ApiKeyCreated,
        summary="Create an API key (admin); the key is in the answer, once",
    )
    async def create_api_key(
        body: ApiKeyCreate, uow: UowDep, who: PrincipalDep, response: Response
    ) -> ApiKeyCreated:
        # No Idempotency-Key here on purpose: a replay store would have to keep the secret.
        full, key_id, secret_hash = generate_key()
        row = ApiKeyRow(
            id=key_id,
            name=body.name,
            secret_hash=secret_hash,
            scopes=body.scopes,
            rate_limit_per_minute=body.rate_limit_per_minute or settings.default_rate_limit_per_minute,
            created_by=who.key_id,
        )
        async with uow:
            uow.session.add(row)
            await uow.commit()
        response.headers["Location"] = f"/v1/gateway/api-keys/{row.id}"
        return ApiKeyCreated(key=full, **_public(row).model_dump())

    @keys_router.get("/api-keys", operation_id="gateway_list_api_keys", summary="List API keys (admin)")
    async def list_api_keys(session: SessionDep) -> ApiKeyList:
        return ApiKeyList(items=[_public(r) for r in await list_keys(session)])

    @keys_router.get("/api-keys/{key_id}", operation_id="gateway_get_api_key", summary="One API key")
    async def get_api_key(key_id: str, session: SessionDep) -> ApiKeyPublic:
        row = await session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f"no API key {key_id!r}")
        return _public(row)

    @keys_router.delete(
        "/api-keys/{key_id}",
        operation_id="gateway_revoke_api_key",
        summary="Revoke an API key (admin); it stops working within seconds",
    )
    async def revoke_api_key(key_id: str, uow: UowDep, who: PrincipalDep) -> ApiKeyPublic:
        async with uow:
            row = await uow.session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key {key_id!r}")
            if row.id == who.key_id:
                raise ValidationFailed.one("path.key_id", "a key cannot revoke itself")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                uow.session.add(row)
            await uow.commit()
        assert state.auth is not None
        state.auth.forget(key_id)
        return _public(row)

    @keys_router.get(
        "/services",
        operation_id="gateway_list_services",
        summary="Readiness of every service, as the gateway sees it",
    )
    async def list_services() -> ServicesHealth:
        assert state.proxy is not None
        items = []
        for service, base in state.upstreams.items():
            started = time.perf_counter()
            try:
                r = await state.proxy.client.get(f"{base}/readyz", timeout=3.0)
                status = "ready" if r.status_code == 200 else "not ready"
                detail = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                status, detail = "unreachable", {"error": type(exc).__name__}
            items.append(
                ServiceHealth(
                    service=service,
                    url=base,
                    status=status,
                    detail=detail,
                    latency_ms=round((time.perf_counter() - started) * 1000, 1),
                )
            )
        return ServicesHealth(items=items)

    app = create_service_app(
        settings,
        title="Jalon gateway",
        description="API clients and keys; the single entry point to every Jalon service.",
        routers=[keys_router],
        publishes_events=False,
        messaging=False,
        on_startup=startup,
        on_shutdown=shutdown,
    )
    app.state.gateway = state
    app.openapi_url = None  # the aggregated document replaces the gateway's own at /openapi.json

    @app.get("/openapi.json", include_in_schema=False)
    async def aggregated_openapi() -> JSONResponse:
        assert state.proxy is not None
        cached = state.openapi_cache
        if cached is not None and cached[0] > time.monotonic():
            return JSONResponse(cached[1])
        docs, missing = await openapi.fetch_documents(state.proxy.client, state.upstreams)
        own = app.openapi()
        own["info"] = {
            "title": "Jalon API",
            "version": settings.version,
            "description": "Production planning as a service: master data, inventory, MRP, "
            "capacity and finite scheduling, behind one gateway. Authenticate with "
            "'Authorization: Bearer <api key>'.",
        }
        merged = openapi.merge(own, docs)
        if missing:
            merged["info"]["x-jalon-unavailable-services"] = missing
        else:
            state.openapi_cache = (time.monotonic() + settings.openapi_cache_ttl_s, merged)
        return JSONResponse(merged)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Jalon API")

    @app.api_route(
        "/v1/{service}/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    async def route_to_service(service: str, path: str, request: Request) -> Response:
        base = state.upstreams.get(service)
        if base is None:
            raise NotFound(f"no service {service!r}; known: {', '.join(state.upstreams)}")
        who = await principal(request)
        assert state.proxy is not None
        return await state.proxy.forward(
            request,
            service,
            base,
            {CLIENT_HEADER: who.key_id, "x-jalon-scopes": " ".join(who.scopes)},
        )

    return app
