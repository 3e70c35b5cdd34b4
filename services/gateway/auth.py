"""Authentication, scopes and the per-key rate limit, in front of every ``/v1`` route."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway import keys
from services.gateway.tables import ApiKeyRow
from shared.apikeys import parse_key
from shared.db.engine import SessionMaker
from shared.web.problems import Forbidden, TooManyRequests, Unauthorized


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int


class Authenticator:
    """Checks ``Authorization: Bearer <key>``; caches verified keys for a few seconds (a revoked key
    stops working within ``cache_ttl_s``)."""

    def __init__(self, sessionmaker: SessionMaker, *, cache_ttl_s: float = 5.0):
        self._sessionmaker = sessionmaker
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def forget(self, key_id: str | None = None) -> None:
        if key_id is None:
            self._cache.clear()
        else:
            self._cache = {k: v for k, v in self._cache.items() if v[1] is None or v[1].key_id != key_id}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized("an API key is required: 'Authorization: Bearer <key>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("use 'Authorization: Bearer <key>'")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._lookup(token)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now + self._ttl, principal)
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        return principal

    async def _lookup(self, token: str) -> Principal | None:
        parsed = parse_key(token)
        key_id, secret = (parsed.key_id, parsed.secret) if parsed else ("bootstrap", token)
        async with self._sessionmaker() as session:
            row = await session.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None or not keys.secret_matches(secret, row.secret_hash):
            return None
        return Principal(row.id, row.name, tuple(row.scopes), row.rate_limit_per_minute)

    @staticmethod
    def authorize(principal: Principal, method: str, path: str) -> None:
        needed = keys.required_scope(method, path)
        if not keys.grants(principal.scopes, needed):
            raise Forbidden(
                f"this key lacks the '{needed}' scope needed for {method} {path}",
                required_scope=needed,
                scopes=list(principal.scopes),
            )

    async def throttle(self, principal: Principal) -> None:
        item = RateLimitItemPerMinute(principal.rate_limit_per_minute)
        if await self._limiter.hit(item, principal.key_id):
            return
        stats = await self._limiter.get_window_stats(item, principal.key_id)
        retry_after = max(1, int(stats.reset_time - time.time()) + 1)
        raise TooManyRequests(
            f"rate limit of {principal.rate_limit_per_minute} requests per minute reached",
            headers={"Retry-After": str(retry_after)},
        )


async def ensure_bootstrap_key(session: AsyncSession, bootstrap_key: str, rate_limit: int) -> None:
    """Register the operator's bootstrap key as an admin key (idempotent; a changed key replaces it)."""
    key_id, secret_hash = keys.from_bootstrap(bootstrap_key)
    row = await session.get(ApiKeyRow, key_id)
    if row is None:
        session.add(
            ApiKeyRow(
                id=key_id,
                name="bootstrap",
                secret_hash=secret_hash,
                scopes=["admin"],
                rate_limit_per_minute=rate_limit,
                created_by="launcher",
            )
        )
    else:
        row.secret_hash = secret_hash
        row.scopes = ["admin"]
        row.revoked_at = None
        session.add(row)
    await session.commit()


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    result = await session.exec(select(ApiKeyRow).order_by(ApiKeyRow.created_at))  # type: ignore[call-overload, arg-type]
    return list(result.scalars().all())
