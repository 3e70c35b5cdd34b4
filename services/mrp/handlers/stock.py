"""Stock: availability asked of inventory (service to service, not through the gateway), and the
local stock replica's resync from inventory's balances.

Availability of a sku = Σ ``available`` (on hand − reserved) of its balances in nettable
locations. A balance row that says ``nettable`` is taken at its word; otherwise the location's
``nettable`` flag from ``GET /v1/inventory/locations`` decides (a location inventory does not list
counts as nettable).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from services.mrp.db import repositories as repo
from shared.db.engine import SessionMaker
from shared.logging import get_logger
from shared.web.problems import ServiceUnavailable

log = get_logger(__name__)

PAGE_SIZE = 1000


def position_nettable(row: Mapping[str, Any], locations: Mapping[str, bool]) -> bool:
    if row.get("nettable") is not None:
        return bool(row["nettable"])
    return locations.get(str(row.get("location")), True)


def available_by_sku(rows: Iterable[Mapping[str, Any]], locations: Mapping[str, bool]) -> dict[str, Decimal]:
    """Σ available (else on hand − reserved) per sku over nettable locations."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if not position_nettable(row, locations):
            continue
        if row.get("available") is not None:
            available = Decimal(str(row["available"]))
        else:
            available = Decimal(str(row.get("on_hand") or 0)) - Decimal(str(row.get("reserved") or 0))
        out[str(row["sku"])] += available
    return dict(out)


def shortages(
    required: Mapping[str, Decimal], available: Mapping[str, Decimal]
) -> list[dict[str, Decimal | str]]:
    """Components whose requirement exceeds what is available, sorted by sku."""
    missing: list[dict[str, Decimal | str]] = []
    for sku in sorted(required):
        have = max(Decimal(0), available.get(sku, Decimal(0)))
        if required[sku] > have:
            missing.append(
                {"sku": sku, "required": required[sku], "available": have, "short": required[sku] - have}
            )
    return missing


class InventoryClient:
    def __init__(self, base_url: str, timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def _pages(
        self, client: httpx.AsyncClient, path: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            query = dict(params, page_size=PAGE_SIZE)
            if token:
                query["page_token"] = token
            r = await client.get(f"{self.base_url}{path}", params=query)
            r.raise_for_status()
            body = r.json()
            items.extend(body.get("items") or [])
            token = body.get("next_page_token")
            if not token:
                return items

    async def _locations(
        self, client: httpx.AsyncClient, rows: Sequence[Mapping[str, Any]]
    ) -> dict[str, bool]:
        if all(r.get("nettable") is not None for r in rows):
            return {}
        try:
            return {
                str(loc["code"]): bool(loc.get("nettable", True))
                for loc in await self._pages(client, "/v1/inventory/locations", {})
            }
        except httpx.HTTPStatusError:
            return {}

    async def availability(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Available quantity of each sku (nettable locations); 503 problem if inventory is away."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                pages = await asyncio.gather(
                    *(self._pages(client, "/v1/inventory/balances", {"sku": s}) for s in skus)
                )
                rows = [r for page in pages for r in page]
                locations = await self._locations(client, rows)
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(
                f"inventory did not answer the availability check: {type(exc).__name__}",
                headers={"Retry-After": "5"},
            ) from exc
        available = available_by_sku(rows, locations)
        return {s: available.get(s, Decimal(0)) for s in skus}

    async def positions(
        self, sku: str | None = None
    ) -> list[tuple[str, str, str, Decimal, Decimal, bool, int]]:
        """Every balance (of ``sku``), as stock-replica rows (seq as given, else 0)."""
        async with httpx.AsyncClient(timeout=self.timeout_s * 6) as client:
            rows = await self._pages(client, "/v1/inventory/balances", {"sku": sku} if sku else {})
            locations = await self._locations(client, rows)
        out = []
        for r in rows:
            out.append(
                (
                    str(r["sku"]),
                    str(r["location"]),
                    str(r.get("lot") or ""),
                    Decimal(str(r.get("on_hand") or 0)),
                    Decimal(str(r.get("reserved") or 0)),
                    position_nettable(r, locations),
                    int(r.get("seq") or r.get("movement_seq") or 0),
                )
            )
        return out


async def resync_stock(sessionmaker: SessionMaker, client: InventoryClient) -> tuple[int, int]:
    """Replace the stock replica with inventory's balances; record the skus whose net changed."""
    positions = await client.positions()
    async with sessionmaker() as session, session.begin():
        before = await repo.net_stock(session)
        await repo.replace_stock(session, positions)
        after = await repo.net_stock(session)
        changed = {s for s in set(before) | set(after) if before.get(s) != after.get(s)}
        await repo.record_changes(session, changed, "stock_resync")
    log.info("stock replica resynced", positions=len(positions), changed=len(changed))
    return len(positions), len(changed)


async def resync_stock_forever(sessionmaker: SessionMaker, client: InventoryClient) -> None:
    """At start: resync once inventory answers (retrying with back-off)."""
    delay = 1.0
    while True:
        try:
            await resync_stock(sessionmaker, client)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("stock resync failed; retrying", error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
