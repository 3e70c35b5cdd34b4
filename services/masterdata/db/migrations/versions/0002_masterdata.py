"""masterdata: records (items, BOMs, routings, work centers, calendars, suppliers, units, unit
conversions, families), the change sequence, the change history and the import log.

Every record table has the same shape: ``key`` (the record's code), ``record`` (the API body with
its key, JSONB), ``version`` (per record, from 1), ``last_seq`` (the global change number of its
last change) and who / when. Items add the columns the list filters use and their low-level code.

Revision ID: masterdata_0002
Revises: masterdata_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "masterdata_0002"
down_revision = "masterdata_0001"
branch_labels = None
depends_on = None

RECORD_TABLES = (
    "units",
    "families",
    "unit_conversions",
    "calendars",
    "work_centers",
    "items",
    "boms",
    "routings",
    "suppliers",
)


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("record", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.execute("CREATE SEQUENCE change_seq AS bigint START 1")
    for name in RECORD_TABLES:
        extra: list[sa.Column] = []
        if name == "items":
            extra = [
                sa.Column("kind", sa.Text(), nullable=False),
                sa.Column("family", sa.Text(), nullable=True),
                sa.Column("phantom", sa.Boolean(), nullable=False, server_default=sa.false()),
                sa.Column("low_level_code", sa.Integer(), nullable=False, server_default="0"),
                sa.Column("llc_version", sa.Integer(), nullable=False, server_default="0"),
            ]
        op.create_table(name, *_record_columns(), *extra)
    op.create_index("ix_items_family", "items", ["family", "key"])
    op.create_index("ix_items_kind", "items", ["kind", "key"])
    op.create_index("ix_items_key_pattern", "items", [sa.text("key text_pattern_ops")])
    op.create_index("ix_items_low_level_code", "items", ["low_level_code", "key"])
    op.create_table(
        "history",
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("record_kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("changed_by", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Text(), nullable=True),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_history_record", "history", ["record_kind", "key", "seq"])
    op.create_table(
        "imports",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("seq_from", sa.BigInteger(), nullable=True),
        sa.Column("seq_to", sa.BigInteger(), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("imports")
    op.drop_table("history")
    for name in reversed(RECORD_TABLES):
        op.drop_table(name)
    op.execute("DROP SEQUENCE change_seq")
