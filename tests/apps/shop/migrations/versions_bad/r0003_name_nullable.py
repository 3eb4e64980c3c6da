"""products.name nullable (the bug: NOT NULL is gone from the schema)

Revision ID: shop_0003_bad
"""

import sqlalchemy as sa
from alembic import op

revision = "shop_0003_bad"
down_revision = "shop_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("products", "name", existing_type=sa.String(100), nullable=True)


def downgrade() -> None:
    op.alter_column("products", "name", existing_type=sa.String(100), nullable=False)
