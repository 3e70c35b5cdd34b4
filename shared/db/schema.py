"""Frozen migration steps shared by every service's first alembic revision."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_platform_tables_v1(*, outbox: bool = True, inbox: bool = True) -> None:
    """Outbox, inbox and idempotency-key tables, as of schema version 1 (never edit: add a new step)."""
    if outbox:
        op.create_table(
            "outbox",
            sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
            sa.Column("event_id", sa.Text(), nullable=False, unique=True),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        )
        op.create_index(
            "ix_outbox_pending",
            "outbox",
            ["seq"],
            postgresql_where=sa.text("published_at IS NULL"),
        )
    if inbox:
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.Text(), primary_key=True),
            sa.Column("event_id", sa.Text(), primary_key=True),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        )
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("response_headers", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_platform_tables_v1(*, outbox: bool = True, inbox: bool = True) -> None:
    op.drop_table("idempotency_keys")
    if inbox:
        op.drop_table("inbox")
    if outbox:
        op.drop_index("ix_outbox_pending", table_name="outbox")
        op.drop_table("outbox")


def create_replica_tables_v1() -> None:
    """Tables of :mod:`shared.replica`: replicated records and each source's position."""
    op.create_table(
        "replica_state",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("needs_resync", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "replica_records",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record", postgresql.JSONB(), nullable=False),
    )


def drop_replica_tables_v1() -> None:
    op.drop_table("replica_records")
    op.drop_table("replica_state")
