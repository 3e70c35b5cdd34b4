"""Settings of the capacity service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class CapacitySettings(ServiceSettings):
    service_name: str = "capacity"
