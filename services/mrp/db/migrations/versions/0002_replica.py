"""mrp: local replica of master data (shared.replica).

Revision ID: mrp_0002
Revises: mrp_0001
"""

from shared.db.schema import create_replica_tables_v1, drop_replica_tables_v1

revision = "mrp_0002"
down_revision = "mrp_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_replica_tables_v1()


def downgrade() -> None:
    drop_replica_tables_v1()
