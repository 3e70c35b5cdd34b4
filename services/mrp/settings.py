"""Settings of the mrp service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class MrpSettings(ServiceSettings):
    service_name: str = "mrp"
