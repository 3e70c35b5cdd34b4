"""inventory: locations, lots, the movement ledger, balances, valuation state, reservations, counts.

Revision ID: inventory_0003
Revises: inventory_0002

Layout (``lot`` is ``''`` for stock that is not lot-controlled, so it can be part of keys):

- ``balances`` is maintained with the ledger, one row per (sku, location, lot): on hand, reserved.
  Movements lock it (``SELECT ... FOR UPDATE``), so stock never goes below what is allowed.
- ``movements`` is the append-only ledger (``seq`` = ledger order). Each row also carries what it
  booked in value (FIFO and weighted average) and the sku's running figures after it, so a
  valuation as of a date reads one row per sku changed since then instead of replaying history.
- ``item_costs`` holds each sku's current valuation state; ``cost_layers`` its open FIFO layers
  (and the shortfall issued while the stock was negative).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "inventory_0003"
down_revision = "inventory_0002"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, server_default="bin"),
        sa.Column("parent", sa.Text(), nullable=True),
        sa.Column("nettable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("allow_negative", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.execute(
        "INSERT INTO locations (code, name, kind, nettable, allow_negative) "
        "VALUES ('MAIN', 'Main store', 'warehouse', true, false)"
    )
    op.create_table(
        "lots",
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "balances",
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("location", sa.Text(), primary_key=True),
        sa.Column("lot", sa.Text(), primary_key=True, server_default=""),
        sa.Column("on_hand", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("reserved", sa.Numeric(), nullable=False, server_default="0"),
        _ts("updated_at"),
    )
    op.create_index("ix_balances_location", "balances", ["location", "sku"])
    op.create_table(
        "movements",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("id", sa.Text(), nullable=False, unique=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("qty", sa.Numeric(), nullable=False),
        sa.Column("delta", sa.Numeric(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("to_location", sa.Text(), nullable=True),
        sa.Column("lot", sa.Text(), nullable=False, server_default=""),
        sa.Column("unit_cost", sa.Numeric(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("reservation_id", sa.Text(), nullable=True),
        sa.Column("dedup_key", sa.Text(), nullable=True, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _ts("recorded_at"),
        sa.Column("fifo_value", sa.Numeric(), nullable=False),
        sa.Column("fifo_cogs", sa.Numeric(), nullable=False),
        sa.Column("avg_value", sa.Numeric(), nullable=False),
        sa.Column("avg_cogs", sa.Numeric(), nullable=False),
        sa.Column("ppv", sa.Numeric(), nullable=False),
        sa.Column("sku_qty_after", sa.Numeric(), nullable=False),
        sa.Column("fifo_value_after", sa.Numeric(), nullable=False),
        sa.Column("avg_value_after", sa.Numeric(), nullable=False),
        sa.Column("avg_cost_after", sa.Numeric(), nullable=False),
        sa.Column("fifo_last_cost_after", sa.Numeric(), nullable=True),
        sa.Column("ppv_total_after", sa.Numeric(), nullable=False),
    )
    op.create_index("ix_movements_sku_at", "movements", ["sku", "at", "seq"])
    op.create_index("ix_movements_location", "movements", ["location", "seq"])
    op.create_index("ix_movements_at", "movements", ["at"])
    op.create_index("ix_movements_reference", "movements", ["reference"])
    op.create_table(
        "item_costs",
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("fifo_value", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("fifo_last_cost", sa.Numeric(), nullable=True),
        sa.Column("avg_value", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("avg_cost", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("ppv_total", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("last_movement_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "cost_layers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("shortfall", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qty", sa.Numeric(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(), nullable=False),
    )
    op.create_index("ix_cost_layers_sku", "cost_layers", ["sku", "id"])
    op.create_table(
        "reservations",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("order_ref", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("requested", sa.Numeric(), nullable=False),
        sa.Column("reserved", sa.Numeric(), nullable=False),
        sa.Column("consumed", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("released", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=True, unique=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_reservations_order", "reservations", ["order_ref", "sku"])
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.Text(), sa.ForeignKey("reservations.id"), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), nullable=False),
        sa.Column("qty", sa.Numeric(), nullable=False),
    )
    op.create_table(
        "counts",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("skus", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tolerance_qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("tolerance_ratio", sa.Numeric(), nullable=False, server_default="0"),
        _ts("created_at"),
    )
    op.create_table(
        "count_lines",
        sa.Column("count_id", sa.Text(), sa.ForeignKey("counts.id"), primary_key=True),
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("location", sa.Text(), primary_key=True),
        sa.Column("lot", sa.Text(), primary_key=True),
        sa.Column("expected", sa.Numeric(), nullable=False),
        sa.Column("counted", sa.Numeric(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_count_lines_sku", "count_lines", ["sku"])


def downgrade() -> None:
    for table in (
        "count_lines",
        "counts",
        "reservation_lines",
        "reservations",
        "cost_layers",
        "item_costs",
        "movements",
        "balances",
        "lots",
        "locations",
    ):
        op.drop_table(table)
