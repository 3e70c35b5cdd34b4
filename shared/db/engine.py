"""Async engine and sessions (SQLModel over asyncpg)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
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
