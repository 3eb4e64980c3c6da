"""products, with the status enum (stored by member name)

Revision ID: shop_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "shop_0002"
down_revision = "shop_0001"
branch_labels = None
depends_on = None

STATUS = sa.Enum("ACTIVE", "DISCONTINUED", name="productstatus")


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("category_id", sa.Integer(),
                  sa.ForeignKey("categories.id", ondelete="RESTRICT"), nullable=False),
        sa.UniqueConstraint("sku", name="products_sku_key"),
        sa.UniqueConstraint("category_id", "name", name="uq_products_category_name"),
    )


def downgrade() -> None:
    op.drop_table("products")
    STATUS.drop(op.get_bind(), checkfirst=False)
