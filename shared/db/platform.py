"""Tables every service database has: the outbox, the inbox and the idempotency-key store.

They live in their own metadata so that each service's tables can use theirs; migrations create
them with :func:`shared.db.schema.create_platform_tables_v1`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

platform_registry = registry()


class PlatformModel(SQLModel, registry=platform_registry):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxRow(PlatformModel, table=True):
    """An event written in the same transaction as the state it describes; the relay publishes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "seq", postgresql_where=text("published_at IS NULL")),)

    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    event_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class InboxRow(PlatformModel, table=True):
    """An event a consumer has applied, recorded in the same transaction as its effect."""

    __tablename__ = "inbox"

    consumer: str = Field(sa_column=Column(Text, primary_key=True))
    event_id: str = Field(sa_column=Column(Text, primary_key=True))
    handled_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class IdempotencyRow(PlatformModel, table=True):
    """The first response to a request sent with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_keys"

    client: str = Field(sa_column=Column(Text, primary_key=True))
    key: str = Field(sa_column=Column(Text, primary_key=True))
    method: str = Field(sa_column=Column(Text, nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    status_code: int = Field(sa_column=Column(Integer, nullable=False))
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    response_headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
