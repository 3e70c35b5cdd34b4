"""scheduler: each schedule's material dates (per order: date, source, components).

Revision ID: scheduler_0005
Revises: scheduler_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "scheduler_0005"
down_revision = "scheduler_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("schedules", sa.Column("material", postgresql.JSONB()))


def downgrade() -> None:
    op.drop_column("schedules", "material")
