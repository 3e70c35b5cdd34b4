"""mrp: stored S&OP plans and master production schedules.

Revision ID: mrp_0004
Revises: mrp_0003

- ``sop_plans``: one S&OP plan of a family (the request, the computed plan with its rough-cut load
  and strategy comparison, as JSON; plans are small: a family over some months).
- ``mps_plans``: one MPS of an end item (the request and the computed table as JSON) and
  ``firmed``, the weeks already turned into firm orders (``{week: order id}``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "mrp_0004"
down_revision = "mrp_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sop_plans",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("family", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("request", postgresql.JSONB(), nullable=False),
        sa.Column("plan", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sop_plans_family", "sop_plans", ["family", "seq"])
    op.create_table(
        "mps_plans",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("request", postgresql.JSONB(), nullable=False),
        sa.Column("plan", postgresql.JSONB(), nullable=False),
        sa.Column("firmed", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_mps_plans_sku", "mps_plans", ["sku", "seq"])


def downgrade() -> None:
    op.drop_table("mps_plans")
    op.drop_table("sop_plans")
