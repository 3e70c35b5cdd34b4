"""The shape of a Jalon deployment: services, default ports and the environment they read.

This module is the single source of truth that the launcher, ``docker-compose.yml`` and the
Kubernetes manifests in ``deploy/`` agree on (a test checks the last two against it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    default_port: int
    has_database: bool = True

    @property
    def module(self) -> str:
        """The ASGI factory uvicorn starts: ``uvicorn --factory <module>``."""
        return f"services.{self.name}.app:create_app"

    @property
    def database(self) -> str:
        return f"jalon_{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"JALON_{self.name.upper()}_"


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """A background process that serves a service's work queue (no HTTP port)."""

    name: str
    service: str
    module: str  # started as ``python -m <module>``
    default_count: int = 1


GATEWAY = ServiceSpec("gateway", 8000)
#: Domain services, in start-up order (masterdata first: the others replicate it).
DOMAIN_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("masterdata", 8001),
    ServiceSpec("inventory", 8002),
    ServiceSpec("mrp", 8003),
    ServiceSpec("capacity", 8004),
    ServiceSpec("scheduler", 8005),
)
SERVICES: tuple[ServiceSpec, ...] = (*DOMAIN_SERVICES, GATEWAY)
SERVICE_NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)
#: Solve jobs from the JetStream work queue; scale them with ``JALON_SCHEDULER_WORKERS``.
WORKERS: tuple[WorkerSpec, ...] = (
    WorkerSpec("scheduler-worker", "scheduler", "services.scheduler.worker", default_count=1),
)

DEFAULT_POSTGRES_PORT = 5433
DEFAULT_NATS_PORT = 4222
DEFAULT_NATS_MONITOR_PORT = 8222
DEFAULT_HOST = "127.0.0.1"

#: Environment variables every service understands (see ``shared.settings``).
ENV_DATABASE_URL = "JALON_DATABASE_URL"  # server URL; each service uses its own database on it
ENV_NATS_URL = "JALON_NATS_URL"
ENV_BOOTSTRAP_API_KEY = "JALON_BOOTSTRAP_API_KEY"
ENV_HOME = "JALON_HOME"


def service_url_env(name: str) -> str:
    """The variable holding the base URL of service ``name`` (for the gateway and for
    service-to-service calls such as a replica's resync)."""
    return f"JALON_{name.upper()}_URL"


def worker_count_env(worker: WorkerSpec) -> str:
    return f"JALON_{worker.service.upper()}_WORKERS"


def port_env(name: str) -> str:
    return f"JALON_{name.upper()}_PORT"


def spec(name: str) -> ServiceSpec:
    for s in SERVICES:
        if s.name == name:
            return s
    raise KeyError(name)
