"""products.sku of at least four characters, in the database only (the models say min_length=1)

Revision ID: shop_0003_sku
"""

from alembic import op

revision = "shop_0003_sku"
down_revision = "shop_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint("ck_products_sku_min_length", "products",
                               "char_length(sku) >= 4")


def downgrade() -> None:
    op.drop_constraint("ck_products_sku_min_length", "products", type_="check")
