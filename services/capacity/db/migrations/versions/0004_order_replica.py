"""capacity: local replica of mrp's order book (``order.changed`` / ``order.cancelled`` events).

Revision ID: capacity_0004
Revises: capacity_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "capacity_0004"
down_revision = "capacity_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_replica",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("remaining_qty", sa.Float(), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("record", postgresql.JSONB(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_order_replica_status", "order_replica", ["status", "kind"])
    op.create_table(
        "order_replica_state",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_position", sa.BigInteger(), nullable=True),
        sa.Column("synced_orders", sa.Integer(), nullable=True),
        sa.Column("events_applied", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("events_ignored", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("order_replica_state")
    op.drop_index("ix_order_replica_status", table_name="order_replica")
    op.drop_table("order_replica")
