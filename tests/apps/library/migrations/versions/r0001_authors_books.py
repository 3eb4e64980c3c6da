"""authors and books

Revision ID: lib_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lib_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.UniqueConstraint("name", name="authors_name_key"),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("isbn", sa.String(13), nullable=False),
        sa.Column("price", sa.Numeric(8, 2), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(),
                  sa.ForeignKey("authors.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("isbn", name="books_isbn_key"),
        sa.CheckConstraint("price >= 0", name="ck_books_price_not_negative"),
        sa.CheckConstraint("pages > 0", name="ck_books_pages_positive"),
    )


def downgrade() -> None:
    op.drop_table("books")
    op.drop_table("authors")
