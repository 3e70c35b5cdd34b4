"""mrp: demand (sales orders, forecasts), the order book, the stock replica, MRP runs and results.

Revision ID: mrp_0003
Revises: mrp_0002

- ``sales_orders`` / ``sales_order_lines``: ``(customer, number)`` is unique; an order booked from
  EDI keeps its ``interchange_key`` (unique) so a replayed interchange is not booked twice.
- ``forecasts``: one row per (sku, bucket start).
- ``orders``: manufacturing (make) and purchase (buy) orders with their life cycle;
  ``purchase_orders`` groups buy orders by supplier.
- ``stock_positions``: the local stock replica (inventory's positions), each with the sequence of
  the last movement applied to it.
- ``mrp_changes``: skus whose planning inputs changed (for net change), in change order.
- ``mrp_runs`` and their immutable results ``mrp_planned_orders``, ``mrp_records``, ``mrp_actions``.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "mrp_0003"
down_revision = "mrp_0002"
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
        "sales_orders",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("customer", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="open"),
        sa.Column("source", sa.Text(), nullable=False, server_default="api"),
        sa.Column("interchange_key", sa.Text(), nullable=True, unique=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("customer", "number", name="uq_sales_orders_customer_number"),
    )
    op.create_index("ix_sales_orders_number", "sales_orders", ["number"])
    op.create_table(
        "sales_order_lines",
        sa.Column("order_id", sa.Text(), sa.ForeignKey("sales_orders.id"), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("qty", sa.Numeric(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="open"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_index(
        "ix_sales_order_lines_open", "sales_order_lines", ["sku"], postgresql_where=sa.text("status = 'open'")
    )
    op.create_table(
        "forecasts",
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("start", sa.Date(), primary_key=True),
        sa.Column("qty", sa.Numeric(), nullable=False),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("supplier", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="open"),
        _ts("created_at"),
    )
    op.create_table(
        "orders",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("received_qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("supplier", sa.Text(), nullable=True),
        sa.Column("unit_price", sa.Numeric(), nullable=True),
        sa.Column("purchase_order_id", sa.Text(), sa.ForeignKey("purchase_orders.id"), nullable=True),
        sa.Column("source_run", sa.Text(), nullable=True),
        sa.Column("source_planned_order", sa.Text(), nullable=True),
        sa.Column("components", postgresql.JSONB(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("source_run", "source_planned_order", name="uq_orders_planned_source"),
    )
    op.create_index("ix_orders_sku", "orders", ["sku"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "stock_positions",
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("location", sa.Text(), primary_key=True),
        sa.Column("lot", sa.Text(), primary_key=True, server_default=""),
        sa.Column("on_hand", sa.Numeric(), nullable=False),
        sa.Column("reserved", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("nettable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        _ts("updated_at"),
    )
    op.create_table(
        "stock_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("positions", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "mrp_changes",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("at"),
    )
    op.create_table(
        "mrp_runs",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("requested_mode", sa.Text(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("release_window_days", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("counts", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("timings", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("previous_run", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
    )
    op.create_table(
        "mrp_planned_orders",
        sa.Column("run_id", sa.Text(), primary_key=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("pegging", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_mrp_planned_orders_ord", "mrp_planned_orders", ["run_id", "ord"])
    op.create_table(
        "mrp_records",
        sa.Column("run_id", sa.Text(), primary_key=True),
        sa.Column("sku", sa.Text(), primary_key=True),
        sa.Column("low_level_code", sa.Integer(), nullable=False),
        sa.Column("starting_available", sa.BigInteger(), nullable=False),
        sa.Column("safety_stock", sa.BigInteger(), nullable=False),
        sa.Column("components", postgresql.JSONB(), nullable=False),
        sa.Column("rows", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "mrp_actions",
        sa.Column("run_id", sa.Text(), primary_key=True),
        sa.Column("ord", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("new_date", sa.Date(), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "mrp_actions",
        "mrp_records",
        "mrp_planned_orders",
        "mrp_runs",
        "mrp_changes",
        "stock_state",
        "stock_positions",
        "orders",
        "purchase_orders",
        "forecasts",
        "sales_order_lines",
        "sales_orders",
    ):
        op.drop_table(table)
