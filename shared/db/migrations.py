"""Alembic, driven from code: each service keeps its revisions in ``services/<name>/db/migrations``.

A service's ``env.py`` only calls :func:`run_env`. :func:`upgrade` is what the launcher, the tests
and ``jalon migrate`` call; it creates the database first when it does not exist.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import asyncpg
from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import database_url_for

T = TypeVar("T")


def script_location(service: str) -> str:
    return str(resources.files(f"services.{service}.db") / "migrations")


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location(service))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url
    return cfg


def _run_blocking(fn: Callable[[], T]) -> T:
    """Run ``fn`` (which may call ``asyncio.run``) even when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def ensure_database(server_url: str, database: str) -> bool:
    """Create ``database`` on the server if missing. True when it was created."""
    dsn = database_url_for(server_url, "postgres", driver="postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{database}"')
        return True
    finally:
        await conn.close()


def upgrade(service: str, server_url: str, database: str, revision: str = "head") -> None:
    asyncio_url = database_url_for(server_url, database)

    def work() -> None:
        asyncio.run(ensure_database(server_url, database))
        command.upgrade(alembic_config(service, asyncio_url), revision)

    _run_blocking(work)


def downgrade(service: str, server_url: str, database: str, revision: str = "base") -> None:
    url = database_url_for(server_url, database)
    _run_blocking(lambda: command.downgrade(alembic_config(service, url), revision))


async def current_revision(conn: Any) -> str | None:
    """The alembic revision a database is at (``conn``: an AsyncSession or AsyncConnection)."""
    result = await conn.execute(text("SELECT version_num FROM alembic_version"))
    row = result.first()
    return str(row[0]) if row else None


def run_env() -> None:
    """Body of every service's alembic ``env.py`` (online mode, asyncpg)."""
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to alembic")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
