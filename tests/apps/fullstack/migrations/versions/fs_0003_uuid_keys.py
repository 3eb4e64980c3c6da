"""Replace the integer ids of all models by UUIDs (new columns filled, old ones dropped)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fs_0003"
down_revision = "fs_0002"


def upgrade() -> None:
    uuid = postgresql.UUID(as_uuid=True)
    op.add_column("user", sa.Column("new_id", uuid, server_default=sa.text("gen_random_uuid()")))
    op.add_column("item", sa.Column("new_id", uuid, server_default=sa.text("gen_random_uuid()")))
    op.add_column("item", sa.Column("new_owner_id", uuid, nullable=True))
    op.execute('UPDATE item SET new_owner_id = (SELECT new_id FROM "user" '
               'WHERE "user".id = item.owner_id)')
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.drop_column("item", "owner_id")
    op.alter_column("item", "new_owner_id", new_column_name="owner_id", nullable=False)
    for table in ("user", "item"):
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.drop_column(table, "id")
        op.alter_column(table, "new_id", new_column_name="id", nullable=False,
                        server_default=None)
        op.create_primary_key(f"{table}_pkey", table, ["id"])
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"])


def downgrade() -> None:
    for table in ("user", "item"):
        op.execute(f'CREATE SEQUENCE {table}_id_seq AS integer')
        op.add_column(table, sa.Column("old_id", sa.Integer(),
                                       server_default=sa.text(f"nextval('{table}_id_seq')")))
        op.execute(f'ALTER SEQUENCE {table}_id_seq OWNED BY "{table}".old_id')
    op.add_column("item", sa.Column("old_owner_id", sa.Integer(), nullable=True))
    op.execute('UPDATE item SET old_owner_id = (SELECT old_id FROM "user" '
               'WHERE "user".id = item.owner_id)')
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.drop_column("item", "owner_id")
    op.alter_column("item", "old_owner_id", new_column_name="owner_id", nullable=False)
    for table in ("user", "item"):
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.drop_column(table, "id")
        op.alter_column(table, "old_id", new_column_name="id", nullable=False)
        op.create_primary_key(f"{table}_pkey", table, ["id"])
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"])
