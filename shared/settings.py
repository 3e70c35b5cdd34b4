"""Settings every service shares (pydantic-settings, environment prefix ``JALON_``).

A service subclasses :class:`ServiceSettings` to add its own fields; settings objects are built in
``create_app``, never at import time.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime import topology


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JALON_", extra="ignore")

    service_name: str = "service"
    version: str = "0.1.0"
    #: A PostgreSQL *server* URL; the service uses its own database ``jalon_<service>`` on it unless
    #: ``database_name`` says otherwise.
    database_url: str = (
        f"postgresql://postgres@{topology.DEFAULT_HOST}:{topology.DEFAULT_POSTGRES_PORT}/postgres"
    )
    database_name: str | None = None
    database_pool_size: int = 10
    database_max_overflow: int = 20
    nats_url: str = f"nats://{topology.DEFAULT_HOST}:{topology.DEFAULT_NATS_PORT}"
    #: Start the outbox relay and the event consumers with the app (off in some tests).
    run_workers: bool = True
    outbox_poll_interval_s: float = 1.0
    consumer_max_deliver: int = 5
    log_level: str = "INFO"
    log_json: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    #: Base URLs of the services (``JALON_<SERVICE>_URL``), for service-to-service calls.
    masterdata_url: str = f"http://{topology.DEFAULT_HOST}:8001"
    inventory_url: str = f"http://{topology.DEFAULT_HOST}:8002"
    mrp_url: str = f"http://{topology.DEFAULT_HOST}:8003"
    capacity_url: str = f"http://{topology.DEFAULT_HOST}:8004"
    scheduler_url: str = f"http://{topology.DEFAULT_HOST}:8005"

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url"))

    @property
    def effective_database_name(self) -> str:
        return self.database_name or f"jalon_{self.service_name}"

    @property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL (asyncpg driver) of this service's own database."""
        return database_url_for(self.database_url, self.effective_database_name)


def database_url_for(server_url: str, database: str, driver: str = "postgresql+asyncpg") -> str:
    parts = urlsplit(server_url)
    return urlunsplit((driver, parts.netloc, f"/{database}", parts.query, ""))
