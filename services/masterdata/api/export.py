"""``GET /v1/masterdata/export``: every record, streamed as NDJSON from one consistent snapshot.

One ``REPEATABLE READ`` transaction; lines:

- ``{"kind": "header", "seq": <last committed change>, "exported_at": ..., "kinds": [...]}``
- one ``{"kind", "key", "version", "record"}`` per record (``record`` as in the events), kinds in
  the order units, families, unit conversions, calendars, work centers, items, BOMs, routings,
  suppliers, low-level codes; keys in order within a kind;
- ``{"kind": "end", "count": N}``.

Rows come through server-side cursors in batches, so memory stays bounded whatever the size. A
replica loads it, then applies the events whose ``seq`` follows the header's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.masterdata.db import repositories as repo
from services.masterdata.events import EXPORT_KINDS
from shared.web.app import RuntimeDep
from shared.web.problems import ValidationFailed

router = APIRouter(prefix="/v1/masterdata", tags=["masterdata"])
BATCH = 5000


@router.get(
    "/export",
    operation_id="masterdata_export",
    summary="Consistent snapshot of all master data, streamed as NDJSON (for replicas)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export(
    runtime: RuntimeDep,
    kinds: Annotated[
        str | None, Query(description=f"Comma-separated subset of {', '.join(EXPORT_KINDS)}")
    ] = None,
) -> StreamingResponse:
    wanted = list(EXPORT_KINDS)
    if kinds:
        asked = {k.strip() for k in kinds.split(",") if k.strip()}
        unknown = sorted(asked - set(EXPORT_KINDS))
        if unknown:
            raise ValidationFailed.one("query.kinds", f"unknown kind(s) {', '.join(unknown)}")
        wanted = [k for k in EXPORT_KINDS if k in asked]

    async def lines() -> AsyncIterator[str]:
        async with runtime.engine.connect() as plain:
            conn = await plain.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                raw = await repo.raw_of(conn)
                seq = await repo.last_committed_seq(raw)
                header = {
                    "kind": "header",
                    "seq": seq,
                    "exported_at": datetime.now(UTC).isoformat(),
                    "kinds": wanted,
                }
                yield json.dumps(header) + "\n"
                count = 0
                for kind in wanted:
                    prefix = f'{{"kind":"{kind}","key":'
                    async for rows in repo.stream_kind(raw, kind, BATCH):
                        count += len(rows)
                        yield "".join(
                            f'{prefix}{json.dumps(key)},"version":{version},"record":{record}}}\n'
                            for key, version, record in rows
                        )
                yield json.dumps({"kind": "end", "count": count}) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
