"""categories

Revision ID: shop_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "shop_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("parent_id", sa.Integer(),
                  sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=True),
        sa.UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),
    )


def downgrade() -> None:
    op.drop_table("categories")
