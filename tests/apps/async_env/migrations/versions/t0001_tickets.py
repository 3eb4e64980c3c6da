"""tickets

Revision ID: tracker_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "tracker_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("summary", sa.String(120), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tickets")
