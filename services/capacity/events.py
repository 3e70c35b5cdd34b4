"""Outgoing events of the capacity service.

- ``jalon.capacity.analysis.completed`` (subject: the analysis id) when an analysis or what-if has
  succeeded: ``{"id", "parent", "status", "direction", "bucket", "from", "to", "counts",
  "bottleneck", "timings"}``.
- ``jalon.capacity.analysis.failed`` when it could not be computed: ``{"id", "parent", "status",
  "error"}``.

The service consumes no events of its own: master data arrives through the replica
(:mod:`shared.replica`), orders over HTTP from mrp when an analysis starts.
"""

from __future__ import annotations

from services.capacity.db.tables import AnalysisRow
from shared.events import CloudEvent, new_event

PRODUCER = "capacity"


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
