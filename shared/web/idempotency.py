"""``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header), stored in the service's own
transaction: the first response is recorded with the effect it describes, in one commit.

- same key, same request  → the first response again (``Idempotent-Replayed: true``);
- same key, other request → 422;
- same key while the first request is still running → 409.

Keys are scoped by API client (``X-Jalon-Client``, set by the gateway) and kept
``RETENTION`` long.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, text

from shared.db.platform import IdempotencyRow
from shared.db.uow import UnitOfWork
from shared.web.problems import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
CLIENT_HEADER = "X-Jalon-Client"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(days=2)
REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("location", "etag", "content-type")


@dataclass(frozen=True)
class IdempotencyKey:
    key: str | None
    client: str
    method: str
    path: str
    fingerprint: str

    async def execute(
        self,
        uow: UnitOfWork,
        work: Callable[[], Awaitable[Any]],
        *,
        status_code: int = 200,
        headers: Callable[[Any], dict[str, str]] | None = None,
    ) -> Response:
        """Run ``work`` inside ``uow`` (already open), commit, and answer; replay when seen before.

        ``work`` returns the response body (model or JSON-ready data); ``headers(result)`` may add
        e.g. ``Location``. A problem raised by ``work`` rolls everything back and records nothing.
        """
        if self.key is not None:
            replay = await self._lookup(uow)
            if replay is not None:
                return replay
        result = await work()
        response = JSONResponse(
            jsonable_encoder(result), status_code=status_code, headers=headers(result) if headers else None
        )
        if self.key is not None:
            uow.session.add(
                IdempotencyRow(
                    client=self.client,
                    key=self.key,
                    method=self.method,
                    path=self.path,
                    fingerprint=self.fingerprint,
                    status_code=response.status_code,
                    response_body=bytes(response.body).decode(),
                    response_headers={
                        k: v for k, v in response.headers.items() if k.lower() in _STORED_HEADERS
                    },
                )
            )
        await uow.commit()
        return response

    async def _lookup(self, uow: UnitOfWork) -> Response | None:
        session = uow.session
        lock_id = f"idem:{self.client}:{self.key}"
        got = (
            await session.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": lock_id}
            )
        ).scalar_one()
        if not got:
            raise Conflict(
                f"a request with Idempotency-Key {self.key!r} is still being processed; retry later",
                headers={"Retry-After": "1"},
            )
        row = (
            await session.execute(
                select(IdempotencyRow).where(
                    IdempotencyRow.client == self.client,  # type: ignore[arg-type]
                    IdempotencyRow.key == self.key,  # type: ignore[arg-type]
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.fingerprint != self.fingerprint:
            raise ValidationFailed.one(
                "header.Idempotency-Key",
                "this key was already used for a different request (method, path or body)",
                code="idempotency_key_reused",
            )
        headers = dict(row.response_headers)
        headers[REPLAYED_HEADER] = "true"
        return Response(
            content=row.response_body,
            status_code=row.status_code,
            headers=headers,
            media_type=headers.pop("content-type", "application/json"),
        )


async def purge_expired(uow: UnitOfWork) -> None:
    await uow.session.execute(
        text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => :s)"),
        {"s": RETENTION.total_seconds()},
    )


def _fingerprint(method: str, target: str, body: bytes) -> str:
    """Method, path with query, and the body (JSON canonicalised: key order and spacing ignored)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    digest.update(method.encode() + b" " + target.encode() + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


async def _read(request: Request, required: bool) -> IdempotencyKey:
    key = request.headers.get(HEADER)
    if key is not None:
        key = key.strip().strip('"')
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed.one("header.Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    elif required:
        raise ValidationFailed.one(
            "header.Idempotency-Key", "this operation requires an Idempotency-Key header", code="missing"
        )
    body = await request.body()
    path = request.url.path
    target = f"{path}?{request.url.query}" if request.url.query else path
    return IdempotencyKey(
        key=key,
        client=request.headers.get(CLIENT_HEADER, "anonymous"),
        method=request.method,
        path=path,
        fingerprint=_fingerprint(request.method, target, body),
    )


async def optional_idempotency_key(request: Request) -> IdempotencyKey:
    return await _read(request, required=False)


async def required_idempotency_key(request: Request) -> IdempotencyKey:
    return await _read(request, required=True)


IdempotencyDep = Annotated[IdempotencyKey, Depends(optional_idempotency_key)]
RequiredIdempotencyDep = Annotated[IdempotencyKey, Depends(required_idempotency_key)]
