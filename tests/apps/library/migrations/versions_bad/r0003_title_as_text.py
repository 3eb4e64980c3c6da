"""books.title as text (the bug: the 200-character limit is gone from the schema)

Revision ID: lib_0003_bad
"""

import sqlalchemy as sa
from alembic import op

revision = "lib_0003_bad"
down_revision = "lib_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("books", "title", type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    op.alter_column("books", "title", type_=sa.String(200), existing_nullable=False)
