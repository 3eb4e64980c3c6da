"""Add cascade delete relationships: deleting a user deletes the user's items."""

from alembic import op

revision = "fs_0004"
down_revision = "fs_0003"


def upgrade() -> None:
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"],
                          ondelete="CASCADE")


def downgrade() -> None:
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"])
