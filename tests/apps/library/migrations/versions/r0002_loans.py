"""loans

Revision ID: lib_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "lib_0002"
down_revision = "lib_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("book_id", sa.Integer(), sa.ForeignKey("books.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("borrower", sa.String(100), nullable=False),
        sa.Column("loaned_on", sa.Date(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("loans")
