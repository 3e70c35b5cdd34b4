"""The JetStream streams: one per producing service, the scheduler's work queue, the dead letters."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.events import DLQ_PREFIX, DLQ_STREAM, stream_name
from shared.runtime.topology import DOMAIN_SERVICES

DUPLICATE_WINDOW_S = 600.0
EVENT_MAX_AGE_S = 30 * 24 * 3600.0
JOBS_STREAM = "JALON_JOBS"
JOBS_PREFIX = "jalon.jobs"


def stream_configs() -> list[StreamConfig]:
    configs = [
        StreamConfig(
            name=stream_name(s.name),
            subjects=[f"jalon.{s.name}.>"],
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
            max_age=EVENT_MAX_AGE_S,
        )
        for s in DOMAIN_SERVICES
    ]
    configs.append(
        StreamConfig(
            name=JOBS_STREAM,
            subjects=[f"{JOBS_PREFIX}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.WORK_QUEUE,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
    )
    configs.append(
        StreamConfig(
            name=DLQ_STREAM,
            subjects=[f"{DLQ_PREFIX}.>"],
            storage=StorageType.FILE,
            max_age=EVENT_MAX_AGE_S,
        )
    )
    return configs


async def ensure_streams(js: JetStreamContext) -> list[str]:
    """Create the streams, or bring their configuration up to date. Returns their names."""
    names = []
    for config in stream_configs():
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
        names.append(config.name or "")
    return names
