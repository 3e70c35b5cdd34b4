"""scheduler: plant schedules (versions, snapshots, assignments), setup matrices, shop floor.

Revision ID: scheduler_0004
Revises: scheduler_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "scheduler_0004"
down_revision = "scheduler_0003"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("version", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False, server_default="request"),
        sa.Column("objectives", postgresql.JSONB(), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        _ts("frozen_until"),
        _ts("origin"),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker_id", sa.Text()),
        sa.Column("solver_status", sa.Text()),
        sa.Column("objective", sa.BigInteger()),
        sa.Column("best_bound", sa.BigInteger()),
        sa.Column("gap", sa.Float()),
        sa.Column("objective_values", postgresql.JSONB()),
        sa.Column("tardiness", postgresql.JSONB()),
        sa.Column("statistics", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("skipped", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("error", sa.Text()),
        sa.Column("jobs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("operations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("machines", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("downtime_id", sa.Text()),
        sa.Column("client", sa.Text()),
        _ts("created_at", False),
        _ts("started_at"),
        _ts("finished_at"),
        _ts("heartbeat_at"),
        sa.Column("wall_s", sa.Float()),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="ck_schedules_status"
        ),
    )
    op.create_index("ix_schedules_status_version", "schedules", ["status", "version"])
    op.create_table(
        "schedule_snapshots",
        sa.Column(
            "schedule_id", sa.Text(), sa.ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "schedule_assignments",
        sa.Column(
            "schedule_id", sa.Text(), sa.ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("job", sa.Text(), primary_key=True),
        sa.Column("operation", sa.Text(), primary_key=True),
        sa.Column("machine", sa.Text(), nullable=False),
        sa.Column("work_center", sa.Text(), nullable=False),
        _ts("start", False),
        _ts("end", False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("setup_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("frozen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_schedule_assignments_machine", "schedule_assignments", ["schedule_id", "machine", "start"]
    )
    op.create_table(
        "setup_matrices",
        sa.Column("work_center", sa.Text(), primary_key=True),
        sa.Column("entries", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _ts("updated_at", False),
    )
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("machine", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("good_qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("scrap_qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("reason", sa.Text()),
        _ts("at", False),
        _ts("created_at", False),
    )
    op.create_index("ix_confirmations_order", "confirmations", ["order_id", "operation", "seq"])
    op.create_table(
        "operation_progress",
        sa.Column("order_id", sa.Text(), primary_key=True),
        sa.Column("operation", sa.Text(), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("machine", sa.Text(), nullable=False),
        _ts("started_at"),
        _ts("finished_at"),
        _ts("last_at"),
        _ts("running_since"),
        sa.Column("worked_minutes", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("good_qty", sa.Numeric(), nullable=False, server_default="0"),
        sa.Column("scrap_qty", sa.Numeric(), nullable=False, server_default="0"),
    )
    op.create_table(
        "downtimes",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("machine", sa.Text(), nullable=False),
        _ts("start", False),
        _ts("end"),
        sa.Column("reason", sa.Text()),
        sa.Column("schedule_id", sa.Text()),
        _ts("created_at", False),
    )
    op.create_index("ix_downtimes_machine", "downtimes", ["machine", "start"])
    op.create_table(
        "order_closures",
        sa.Column("order_id", sa.Text(), primary_key=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("good_qty", sa.Numeric(), nullable=False),
        sa.Column("scrap_qty", sa.Numeric(), nullable=False),
        sa.Column("actual", postgresql.JSONB(), nullable=False),
        sa.Column("standard", postgresql.JSONB(), nullable=False),
        _ts("closed_at", False),
    )


def downgrade() -> None:
    op.drop_table("order_closures")
    op.drop_index("ix_downtimes_machine", table_name="downtimes")
    op.drop_table("downtimes")
    op.drop_table("operation_progress")
    op.drop_index("ix_confirmations_order", table_name="confirmations")
    op.drop_table("confirmations")
    op.drop_table("setup_matrices")
    op.drop_index("ix_schedule_assignments_machine", table_name="schedule_assignments")
    op.drop_table("schedule_assignments")
    op.drop_table("schedule_snapshots")
    op.drop_index("ix_schedules_status_version", table_name="schedules")
    op.drop_table("schedules")
