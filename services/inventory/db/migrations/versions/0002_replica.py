"""inventory: local replica of master data (shared.replica).

Revision ID: inventory_0002
Revises: inventory_0001
"""

from shared.db.schema import create_replica_tables_v1, drop_replica_tables_v1

revision = "inventory_0002"
down_revision = "inventory_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_replica_tables_v1()


def downgrade() -> None:
    drop_replica_tables_v1()
