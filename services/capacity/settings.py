"""Settings of the capacity service (environment prefix ``JALON_``)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class CapacitySettings(ServiceSettings):
    service_name: str = "capacity"
    #: The plant's time zone: shifts are wall-clock times in it, buckets are its local days.
    capacity_timezone: str = "UTC"
    #: Calendars are built from this many days before the horizon (and the orders' dates) to this
    #: many days after: milestones that do not fit are warnings (``outside_calendar_horizon``).
    capacity_calendar_margin_days: int = Field(default=120, ge=1)
    #: The longest horizon an analysis or a rough-cut may ask for.
    capacity_max_horizon_days: int = Field(default=1100, ge=1)
    #: Analyses computed at the same time by one process (each takes a core while it computes).
    capacity_max_concurrent_analyses: int = Field(default=1, ge=1)
    #: Proposals kept per overloaded bucket (the best ones, by rank).
    capacity_max_proposals_per_overload: int = Field(default=20, ge=1)
    #: A running analysis whose heartbeat is older than this is taken over (its process died).
    capacity_stale_after_s: float = Field(default=300.0, gt=0)
    capacity_recovery_interval_s: float = Field(default=30.0, gt=0)
    #: Calls to the mrp service (a run's planned orders, firming, the order book's resync).
    capacity_mrp_timeout_s: float = Field(default=30.0, gt=0)
    capacity_mrp_page_size: int = Field(default=1000, ge=1, le=1000)
    #: The local replica of mrp's order book: its durable consumer, and whether to resync it from
    #: mrp at start when it was never synced.
    capacity_orders_consumer: str = "capacity-mrp-orders"
    capacity_orders_resync_at_start: bool = True
