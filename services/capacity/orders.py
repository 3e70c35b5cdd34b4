"""The local replica of mrp's order book, for ``{"orders": "firm+released"}`` analyses.

Fed by mrp's events (stream ``JALON_MRP``, durable consumer ``capacity-mrp-orders``):

- ``jalon.mrp.order.changed``: ``data`` is the order as mrp's API answers it (``OrderPublic``:
  ``{id, kind, sku, quantity, received_qty, remaining_qty, release_date, due_date, status, ...,
  version, created_at, updated_at}``). ``version`` is the order's own counter (1 at creation, +1
  on every change, in mrp's ``UPDATE``): the event is applied only when its version is newer than
  the one held, so a redelivered or late (older) event changes nothing. An event without a
  version cannot be ordered and is dead-lettered.
- ``jalon.mrp.order.cancelled``: ``{order, order_id, sku, status_before}`` (no version).
  Cancelled is final in mrp's state machine, so the order is marked cancelled whatever its
  version; one not seen yet is kept as a tombstone (version 0) that later ``changed`` events fill
  in without un-cancelling it.

Each applied change moves the replica's ``position`` (``order_replica_state``) on by one; an
analysis records the position it read. A resync (at start when the replica was never synced, and
on demand) reads every page of ``GET {mrp}/v1/mrp/orders`` while holding the state's row lock
(events wait meanwhile and are then applied by version on top) and replaces the replica.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import SessionMaker
from shared.events import CloudEvent
from shared.logging import get_logger
from shared.messaging.consumer import PoisonMessage

log = get_logger(__name__)

SOURCE = "mrp"
ORDERS_PATH = "/v1/mrp/orders"
BOOK_STATUSES = ("firm", "released")


class SourceUnavailable(RuntimeError):
    """The mrp service could not be read (an analysis fails with this message)."""


# -- mrp over HTTP -----------------------------------------------------------------------------------


def detail_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except ValueError:
        return response.text[:200]


async def pages(
    client: httpx.AsyncClient,
    path: str,
    params: list[tuple[str, str | int | float | bool | None]],
    page_size: int,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paged mrp list (``items`` / ``next_page_token``)."""
    token: str | None = None
    while True:
        query = [*params, ("page_size", page_size)]
        if token:
            query.append(("page_token", token))
        try:
            response = await client.get(path, params=query)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"the mrp service did not answer {path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(f"mrp answered {response.status_code} for {path}: {detail_of(response)}")
        page = response.json()
        for raw in page.get("items", []):
            yield raw
        token = page.get("next_page_token")
        if not token:
            return


# -- the replica ---------------------------------------------------------------------------------------


async def lock_state(session: AsyncSession) -> int:
    """The replica's position, its state row locked until the transaction ends."""
    await session.execute(
        text("INSERT INTO order_replica_state (source) VALUES (:s) ON CONFLICT DO NOTHING"), {"s": SOURCE}
    )
    row = (
        await session.execute(
            text("SELECT position FROM order_replica_state WHERE source = :s FOR UPDATE"), {"s": SOURCE}
        )
    ).one()
    return int(row[0])


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value)[:10])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _values(order: dict[str, Any]) -> dict[str, Any]:
    try:
        return {
            "id": str(order["id"]),
            "kind": str(order.get("kind") or "make"),
            "sku": str(order["sku"]),
            "quantity": float(order["quantity"]),
            "remaining_qty": _float(order.get("remaining_qty")),
            "release_date": _date(order["release_date"]),
            "due_date": _date(order["due_date"]),
            "status": str(order["status"]),
            "version": int(order["version"]),
            "record": json.dumps(order, default=str),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise PoisonMessage(f"order is not readable: {exc!r}") from exc


_UPSERT = (
    "INSERT INTO order_replica (id, kind, sku, quantity, remaining_qty, release_date, due_date, "
    "status, version, event_time, position, record, updated_at) VALUES (:id, :kind, :sku, :quantity, "
    ":remaining_qty, :release_date, :due_date, :status, :version, :event_time, :position, "
    "CAST(:record AS jsonb), now()) "
    "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, sku = excluded.sku, "
    "quantity = excluded.quantity, remaining_qty = excluded.remaining_qty, "
    "release_date = excluded.release_date, due_date = excluded.due_date, "
    "status = CASE WHEN order_replica.cancelled THEN 'cancelled' ELSE excluded.status END, "
    "version = excluded.version, event_time = excluded.event_time, position = excluded.position, "
    "record = excluded.record, updated_at = now() "
    "WHERE order_replica.version < excluded.version"
)


async def _counted(session: AsyncSession, applied: bool, position: int) -> None:
    if applied:
        await session.execute(
            text(
                "UPDATE order_replica_state SET position = :p, events_applied = events_applied + 1 "
                "WHERE source = :s"
            ),
            {"p": position, "s": SOURCE},
        )
    else:
        await session.execute(
            text("UPDATE order_replica_state SET events_ignored = events_ignored + 1 WHERE source = :s"),
            {"s": SOURCE},
        )


async def apply_order_event(session: AsyncSession, event: CloudEvent) -> None:
    """The consumer's handler (in the consumer's transaction, with its inbox row)."""
    action = event.type.rsplit(".", 1)[-1]
    data = event.data or {}
    position = await lock_state(session) + 1
    if action == "changed":
        if data.get("version") is None:
            raise PoisonMessage("order.changed without a version: it cannot be ordered")
        values = _values(data)
        result = await session.execute(
            text(_UPSERT + " RETURNING id"), {**values, "event_time": event.time, "position": position}
        )
        applied = result.first() is not None
    elif action == "cancelled":
        order_id = data.get("order_id") or data.get("order") or data.get("id")
        if not order_id:
            raise PoisonMessage("order.cancelled without an order id")
        result = await session.execute(
            text(
                "INSERT INTO order_replica (id, sku, status, version, cancelled, event_time, position) "
                "VALUES (:id, :sku, 'cancelled', 0, true, :t, :p) "
                "ON CONFLICT (id) DO UPDATE SET cancelled = true, status = 'cancelled', "
                "position = excluded.position, updated_at = now() "
                "WHERE NOT order_replica.cancelled RETURNING id"
            ),
            {"id": str(order_id), "sku": data.get("sku"), "t": event.time, "p": position},
        )
        applied = result.first() is not None
    else:
        return  # released / completed: the changed event of the same change carries the order
    await _counted(session, applied, position)


async def resync(
    sessionmaker: SessionMaker, *, mrp_url: str, timeout_s: float, page_size: int
) -> dict[str, Any]:
    """Replace the replica with every order of mrp's book, in one transaction."""
    async with sessionmaker() as session, session.begin():
        position = await lock_state(session) + 1  # events wait until the book is in
        rows: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=mrp_url, timeout=timeout_s) as client:
            async for raw in pages(client, ORDERS_PATH, [], page_size):
                rows.append({**_values(raw), "event_time": None, "position": position})
        await session.execute(text("DELETE FROM order_replica"))
        if rows:
            await session.execute(text(_UPSERT), rows)
            await session.execute(
                text("UPDATE order_replica SET cancelled = true WHERE status = 'cancelled'")
            )
        await session.execute(
            text(
                "UPDATE order_replica_state SET position = :p, synced_at = now(), synced_position = :p, "
                "synced_orders = :n WHERE source = :s"
            ),
            {"p": position, "n": len(rows), "s": SOURCE},
        )
    log.info("order replica resynced", position=position, orders=len(rows))
    async with sessionmaker() as session:
        return await status(session)


async def status(session: AsyncSession) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                text(
                    "SELECT position, synced_at, synced_position, synced_orders, events_applied, "
                    "events_ignored, (SELECT count(*) FROM order_replica) AS orders "
                    "FROM order_replica_state WHERE source = :s"
                ),
                {"s": SOURCE},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return {
            "position": 0,
            "synced_at": None,
            "synced_position": None,
            "synced_orders": None,
            "events_applied": 0,
            "events_ignored": 0,
            "orders": 0,
        }
    return {k: row[k] for k in row}


async def never_synced(sessionmaker: SessionMaker) -> bool:
    async with sessionmaker() as session:
        found = (
            await session.execute(
                text("SELECT synced_at FROM order_replica_state WHERE source = :s"), {"s": SOURCE}
            )
        ).first()
    return found is None or found[0] is None


async def read_order_book(sessionmaker: SessionMaker) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """The firm and released make orders of the replica (each for its remaining quantity when
    known), how many buy orders were left out, and the replica position read — one snapshot."""
    async with sessionmaker() as session:
        conn = await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        state = (
            (
                await conn.execute(
                    text("SELECT position, synced_at FROM order_replica_state WHERE source = :s"),
                    {"s": SOURCE},
                )
            )
            .mappings()
            .first()
        )
        rows = (
            (
                await conn.execute(
                    text(
                        "SELECT id, kind, sku, quantity, remaining_qty, release_date, due_date, status "
                        "FROM order_replica WHERE NOT cancelled AND status = ANY(:st) ORDER BY id"
                    ),
                    {"st": list(BOOK_STATUSES)},
                )
            )
            .mappings()
            .all()
        )
        await session.rollback()
    orders: list[dict[str, Any]] = []
    skipped = 0
    for r in rows:
        if r["kind"] != "make":
            skipped += 1
            continue
        quantity = r["remaining_qty"] if r["remaining_qty"] is not None else r["quantity"]
        orders.append(
            {
                "id": r["id"],
                "sku": r["sku"],
                "quantity": float(quantity),
                "release_date": r["release_date"].isoformat(),
                "due_date": r["due_date"].isoformat(),
                "status": r["status"],
            }
        )
    synced_at: datetime | None = state["synced_at"] if state else None
    replica = {
        "position": int(state["position"]) if state else 0,
        "synced_at": synced_at.isoformat() if synced_at else None,
    }
    return orders, skipped, replica


async def resync_at_start(
    sessionmaker: SessionMaker, *, mrp_url: str, timeout_s: float, page_size: int
) -> None:
    """Worker: when the replica was never synced, resync it from mrp, retrying until mrp answers."""
    delay = 1.0
    while True:
        try:
            if not await never_synced(sessionmaker):
                return
            await resync(sessionmaker, mrp_url=mrp_url, timeout_s=timeout_s, page_size=page_size)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("order replica resync at start failed; retrying", error=str(exc), in_s=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
