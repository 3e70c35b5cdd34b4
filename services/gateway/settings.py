"""Settings of the gateway (environment prefix ``JALON_``; upstreams ``JALON_GATEWAY_<SERVICE>_URL``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.runtime import topology
from shared.settings import ServiceSettings


def _default_upstreams() -> dict[str, str]:
    return {s.name: f"http://{topology.DEFAULT_HOST}:{s.default_port}" for s in topology.DOMAIN_SERVICES}


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JALON_", extra="ignore", env_nested_delimiter="__")

    service_name: str = "gateway"
    bootstrap_api_key: str | None = None
    #: Base URL of each service; override one with ``JALON_GATEWAY_<SERVICE>_URL``.
    upstreams: dict[str, str] = Field(default_factory=_default_upstreams)
    gateway_masterdata_url: str | None = None
    gateway_inventory_url: str | None = None
    gateway_mrp_url: str | None = None
    gateway_capacity_url: str | None = None
    gateway_scheduler_url: str | None = None
    upstream_connect_timeout_s: float = 2.0
    upstream_timeout_s: float = 60.0
    default_rate_limit_per_minute: int = 120_000
    key_cache_ttl_s: float = 5.0
    openapi_cache_ttl_s: float = 10.0

    def upstream(self, service: str) -> str | None:
        override = getattr(self, f"gateway_{service}_url", None)
        return override or self.upstreams.get(service)
