"""scheduler: explicit solves (jobs on the work queue), their problems and assignments.

Revision ID: scheduler_0003
Revises: scheduler_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "scheduler_0003"
down_revision = "scheduler_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "solves",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("objectives", postgresql.JSONB(), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("num_workers", sa.Integer(), nullable=True),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("operations", sa.Integer(), nullable=False),
        sa.Column("machines", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker_id", sa.Text(), nullable=True),
        sa.Column("solver_status", sa.Text(), nullable=True),
        sa.Column("objective", sa.BigInteger(), nullable=True),
        sa.Column("best_bound", sa.BigInteger(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("objective_values", postgresql.JSONB(), nullable=True),
        sa.Column("statistics", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wall_s", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="ck_solves_status"
        ),
    )
    op.create_index("ix_solves_created", "solves", ["created_at", "id"])
    op.create_index("ix_solves_status_created", "solves", ["status", "created_at", "id"])
    op.create_table(
        "solve_problems",
        sa.Column("solve_id", sa.Text(), sa.ForeignKey("solves.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("problem", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "solve_assignments",
        sa.Column("solve_id", sa.Text(), sa.ForeignKey("solves.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("job", sa.Text(), primary_key=True),
        sa.Column("operation", sa.Text(), primary_key=True),
        sa.Column("machine", sa.Text(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_solve_assignments_machine",
        "solve_assignments",
        ["solve_id", "machine", "start", "job", "operation"],
    )


def downgrade() -> None:
    op.drop_index("ix_solve_assignments_machine", table_name="solve_assignments")
    op.drop_table("solve_assignments")
    op.drop_table("solve_problems")
    op.drop_index("ix_solves_status_created", table_name="solves")
    op.drop_index("ix_solves_created", table_name="solves")
    op.drop_table("solves")
