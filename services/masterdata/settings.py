"""Settings of the masterdata service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class MasterDataSettings(ServiceSettings):
    service_name: str = "masterdata"
    #: Load all master data into memory at start (else on first use).
    load_catalog_at_start: bool = True
