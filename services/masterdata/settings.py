"""Settings of the masterdata service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class MasterDataSettings(ServiceSettings):
    service_name: str = "masterdata"
