"""Settings of the scheduler service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    service_name: str = "scheduler"
