"""scheduler: local replica of master data (shared.replica).

Revision ID: scheduler_0002
Revises: scheduler_0001
"""

from shared.db.schema import create_replica_tables_v1, drop_replica_tables_v1

revision = "scheduler_0002"
down_revision = "scheduler_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_replica_tables_v1()


def downgrade() -> None:
    drop_replica_tables_v1()
