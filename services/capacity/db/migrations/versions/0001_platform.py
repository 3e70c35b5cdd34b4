"""capacity: platform tables (outbox, inbox, idempotency keys).

Revision ID: capacity_0001
Revises:
"""

from shared.db.schema import create_platform_tables_v1, drop_platform_tables_v1

revision = "capacity_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()


def downgrade() -> None:
    drop_platform_tables_v1()
