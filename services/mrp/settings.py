"""Settings of the mrp service (environment prefix ``JALON_``)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class MrpSettings(ServiceSettings):
    service_name: str = "mrp"
    #: Seconds to wait for inventory (availability at release, stock resync).
    inventory_timeout_s: float = 10.0
    #: Resync the stock replica from inventory's balances at start (with the workers).
    stock_resync_at_start: bool = True
