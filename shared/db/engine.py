"""Async engine and sessions (SQLModel over asyncpg)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AnyAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.settings import ServiceSettings

SessionMaker = async_sessionmaker[AsyncSession]


def make_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_engine_for(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


def create_engine_for(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    # pool_pre_ping: a connection broken by a database restart is replaced, not handed out.
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
    )


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def raw_connection(conn: AnyAsyncSession | AsyncConnection) -> Any:
    """The asyncpg connection under a session or connection, inside its transaction.

    SQLAlchemy's asyncpg adapter opens the database transaction lazily, at its first statement:
    one trivial statement goes through it first, so that what runs on the raw connection (COPY,
    prepared batches) is inside the unit of work's transaction and not in autocommit.
    """
    sa_conn = await conn.connection() if isinstance(conn, AnyAsyncSession) else conn
    await sa_conn.exec_driver_sql("SELECT 1")
    raw = (await sa_conn.get_raw_connection()).driver_connection
    assert raw is not None
    assert raw.is_in_transaction(), "raw SQL must run inside the unit of work's transaction"
    return raw


async def copy_rows(
    conn: AnyAsyncSession | AsyncConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Bulk insert with PostgreSQL COPY, inside the caller's transaction."""
    if rows:
        raw = await raw_connection(conn)
        await raw.copy_records_to_table(table, records=list(rows), columns=list(columns))
