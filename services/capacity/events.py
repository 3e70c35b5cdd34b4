"""Outgoing events of the capacity service.

- ``jalon.capacity.analysis.completed`` (subject: the analysis id) when an analysis or what-if has
  succeeded: ``{"id", "parent", "status", "direction", "bucket", "from", "to", "counts",
  "bottleneck", "timings"}``.
- ``jalon.capacity.analysis.failed`` when it could not be computed: ``{"id", "parent", "status",
  "error"}``.

Consumed:

- master data through the replica (:mod:`shared.replica`);
- ``jalon.mrp.order.changed`` and ``jalon.mrp.order.cancelled`` (stream ``JALON_MRP``) → the local
  replica of mrp's order book (:mod:`services.capacity.orders`, applied by the order's
  ``version``). A run's planned orders are read over HTTP from mrp when an analysis starts.
"""

from __future__ import annotations

from services.capacity.db.tables import AnalysisRow
from services.capacity.orders import apply_order_event
from services.capacity.settings import CapacitySettings
from shared.events import CloudEvent, new_event, stream_name
from shared.messaging.consumer import EventConsumer
from shared.web.app import ServiceRuntime

PRODUCER = "capacity"
ORDER_SUBJECTS = ["jalon.mrp.order.changed", "jalon.mrp.order.cancelled"]


def analysis_completed(row: AnalysisRow) -> CloudEvent:
    return new_event(
        PRODUCER,
        "analysis",
        "completed",
        {
            "id": row.id,
            "parent": row.parent_id,
            "status": row.status,
            "direction": row.direction,
            "bucket": row.bucket,
            "from": row.from_date.isoformat(),
            "to": row.to_date.isoformat(),
            "counts": row.counts,
            "bottleneck": row.bottleneck,
            "timings": row.timings,
        },
        subject=row.id,
    )


def analysis_failed(row: AnalysisRow) -> CloudEvent:
    return new_event(
        PRODUCER,
        "analysis",
        "failed",
        {"id": row.id, "parent": row.parent_id, "status": row.status, "error": row.error},
        subject=row.id,
    )


# -- consumed --------------------------------------------------------------------------------------


def consumers(runtime: ServiceRuntime) -> list[EventConsumer]:
    assert runtime.nats is not None
    settings = runtime.settings
    assert isinstance(settings, CapacitySettings)
    return [
        EventConsumer(
            nats=runtime.nats,
            sessionmaker=runtime.sessionmaker,
            durable=settings.capacity_orders_consumer,
            stream=stream_name("mrp"),
            subjects=ORDER_SUBJECTS,
            handler=apply_order_event,
            max_deliver=settings.consumer_max_deliver,
        )
    ]
