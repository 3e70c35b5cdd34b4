"""The CloudEvents 1.0 envelope (structured JSON) every Jalon event travels in.

Subjects are ``jalon.<producer>.<aggregate>.<event>``; the CloudEvents ``type`` is the same string.
Payload contracts are versioned and additive only (``dataversion``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _now() -> datetime:
    return datetime.now(UTC)


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=_now)
    datacontenttype: str = "application/json"
    dataversion: int = 1
    correlationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def nats_subject(self) -> str:
        return self.type

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


def new_event(
    producer: str,
    aggregate: str,
    event: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> CloudEvent:
    """Build an event ``jalon.<producer>.<aggregate>.<event>`` (data must be JSON-ready)."""
    from shared.logging import current_correlation_id

    return CloudEvent(
        source=f"/jalon/{producer}",
        type=f"jalon.{producer}.{aggregate}.{event}",
        subject=subject,
        correlationid=correlation_id or current_correlation_id(),
        data=data,
    )


def stream_name(producer: str) -> str:
    return f"JALON_{producer.upper()}"


DLQ_STREAM = "JALON_DLQ"
DLQ_PREFIX = "jalon.dlq"
