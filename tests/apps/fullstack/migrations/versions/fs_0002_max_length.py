"""Add max length for string (varchar) fields: existing longer values cannot be held."""

import sqlalchemy as sa
from alembic import op

revision = "fs_0002"
down_revision = "fs_0001"

_LIMITED = (("user", "email", False), ("user", "full_name", True),
            ("item", "title", False), ("item", "description", True))


def upgrade() -> None:
    for table, column, nullable in _LIMITED:
        op.alter_column(table, column, existing_type=sa.String(), type_=sa.String(length=255),
                        existing_nullable=nullable)


def downgrade() -> None:
    for table, column, nullable in _LIMITED:
        op.alter_column(table, column, existing_type=sa.String(length=255), type_=sa.String(),
                        existing_nullable=nullable)
