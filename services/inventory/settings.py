"""Settings of the inventory service (environment prefix ``JALON_``)."""

from __future__ import annotations

from decimal import Decimal

from shared.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    service_name: str = "inventory"
    #: Where a movement goes when it names no location (created by the migration).
    default_location: str = "MAIN"
    #: Prefix of the durable JetStream consumers of mrp and scheduler events.
    consumer_prefix: str = "inventory"
    #: ABC bands on cumulative consumption value: A up to ``abc_a``, B the next ``abc_b``, C the rest.
    abc_a: Decimal = Decimal("0.80")
    abc_b: Decimal = Decimal("0.15")
    #: Cycle-count interval per ABC class, in months.
    cycle_months_a: int = 1
    cycle_months_b: int = 3
    cycle_months_c: int = 12
    dormant_days: int = 90
    obsolete_days: int = 365
    default_service_level: Decimal = Decimal("0.95")
    #: A movement may be dated at most this far in the future.
    max_future_s: float = 300.0
