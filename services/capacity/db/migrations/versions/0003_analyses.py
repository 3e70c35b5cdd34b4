"""capacity: analyses, their inputs, operations, load cells, overloads and proposals.

Revision ID: capacity_0003
Revises: capacity_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "capacity_0003"
down_revision = "capacity_0002"
branch_labels = None
depends_on = None


def _analysis_fk() -> sa.ForeignKey:
    return sa.ForeignKey("analyses.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("source", postgresql.JSONB(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("overtime_factor", sa.Float(), nullable=False),
        sa.Column("parent_id", sa.Text(), _analysis_fk(), nullable=True),
        sa.Column("inputs_id", sa.Text(), nullable=False),
        sa.Column("applied", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("counts", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("timings", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("bottleneck", postgresql.JSONB(), nullable=True),
        sa.Column("warnings", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="ck_analyses_status"
        ),
        sa.CheckConstraint("direction IN ('backward', 'forward')", name="ck_analyses_direction"),
        sa.CheckConstraint("bucket IN ('day', 'week', 'month')", name="ck_analyses_bucket"),
    )
    op.create_index("ix_analyses_created", "analyses", ["created_at", "id"])
    op.create_index("ix_analyses_status", "analyses", ["status", "created_at"])
    op.create_table(
        "analysis_inputs",
        sa.Column("analysis_id", sa.Text(), _analysis_fk(), primary_key=True),
        sa.Column("replica_seq", sa.Integer(), nullable=True),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "analysis_operations",
        sa.Column("analysis_id", sa.Text(), _analysis_fk(), primary_key=True),
        sa.Column("order_id", sa.Text(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("work_center", sa.Text(), nullable=True),
        sa.Column("machine", sa.Text(), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("working_minutes", sa.Integer(), nullable=False),
        sa.Column("earliest_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("earliest_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slack_minutes", sa.Integer(), nullable=False),
        sa.Column("order_slack_minutes", sa.Integer(), nullable=False),
        sa.Column("change", postgresql.JSONB(), nullable=True),
    )
    op.create_table(
        "analysis_load",
        sa.Column("analysis_id", sa.Text(), _analysis_fk(), primary_key=True),
        sa.Column("work_center", sa.Text(), primary_key=True),
        sa.Column("bucket_start", sa.Date(), primary_key=True),
        sa.Column("load_minutes", sa.Float(), nullable=False),
        sa.Column("capacity_minutes", sa.Float(), nullable=False),
    )
    op.create_table(
        "analysis_overloads",
        sa.Column("analysis_id", sa.Text(), _analysis_fk(), primary_key=True),
        sa.Column("work_center", sa.Text(), primary_key=True),
        sa.Column("bucket_start", sa.Date(), primary_key=True),
        sa.Column("load_minutes", sa.Float(), nullable=False),
        sa.Column("capacity_minutes", sa.Float(), nullable=False),
        sa.Column("gap_minutes", sa.Float(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
    )
    op.create_table(
        "analysis_proposals",
        sa.Column("analysis_id", sa.Text(), _analysis_fk(), primary_key=True),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("work_center", sa.Text(), nullable=False),
        sa.Column("bucket_start", sa.Date(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("gap_minutes", sa.Float(), nullable=False),
        sa.Column("relieved_minutes", sa.Float(), nullable=False),
        sa.Column("closes_gap", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("target_work_center", sa.Text(), nullable=True),
        sa.Column("target_bucket_start", sa.Date(), nullable=True),
        sa.Column("edits", postgresql.JSONB(), nullable=False),
    )
    op.create_index(
        "ix_analysis_proposals_cell",
        "analysis_proposals",
        ["analysis_id", "work_center", "bucket_start", "rank"],
    )


def downgrade() -> None:
    op.drop_index("ix_analysis_proposals_cell", table_name="analysis_proposals")
    op.drop_table("analysis_proposals")
    op.drop_table("analysis_overloads")
    op.drop_table("analysis_load")
    op.drop_table("analysis_operations")
    op.drop_table("analysis_inputs")
    op.drop_index("ix_analyses_status", table_name="analyses")
    op.drop_index("ix_analyses_created", table_name="analyses")
    op.drop_table("analyses")
