"""Settings of the gateway (environment prefix ``JALON_``; upstreams ``JALON_<SERVICE>_URL``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    bootstrap_api_key: str | None = None
    upstream_connect_timeout_s: float = 2.0
    upstream_timeout_s: float = 60.0
    default_rate_limit_per_minute: int = 120_000
    key_cache_ttl_s: float = 5.0
    openapi_cache_ttl_s: float = 10.0
