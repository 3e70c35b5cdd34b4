"""Settings of the inventory service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    service_name: str = "inventory"
