"""conversations and messages, with the message_role enum

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:25:00.000000+00:00

Frozen copy of the schema as of this revision (do not import application code here):
tables ``conversations`` and ``messages``, the native enum ``message_role`` (labels are the
enum *values* ``user``/``assistant``), constraints, indexes and triggers; the
``created_at_immutable()`` function keeps ``messages.created_at`` fixed (messages have no
``updated_at``).  Conversations reuse the timestamp functions of revision 0001.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Python's str.isspace() set as a regex bracket body (backend/app/models/_text.py).
NOT_BLANK_CLASS = (
    r"[^\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]"
)

CREATED_AT_IMMUTABLE_FUNCTION = """\
CREATE OR REPLACE FUNCTION created_at_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    RETURN NEW;
END;
$$"""

# create_type=False: the type is created and dropped explicitly below (also in --sql mode).
MESSAGE_ROLE = postgresql.ENUM("user", "assistant", name="message_role", create_type=False)


def _timestamp_column(name: str) -> sa.Column[datetime]:
    """Return a fresh ``timestamptz NOT NULL DEFAULT now()`` column called ``name``."""
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    """Create conversations, the message_role type, messages, and their triggers."""
    op.create_table(
        "conversations",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        _timestamp_column("created_at"),
        _timestamp_column("updated_at"),
        sa.CheckConstraint(
            "updated_at >= created_at", name=op.f("ck_conversations_updated_at_gte_created_at")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_user_id"), "conversations", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_conversations_user_id_updated_at"),
        "conversations",
        ["user_id", "updated_at"],
        unique=False,
    )
    for when in ("insert", "update"):
        op.execute(
            f"CREATE TRIGGER conversations_timestamps_before_{when} BEFORE {when.upper()} "
            f"ON conversations FOR EACH ROW EXECUTE FUNCTION timestamps_before_{when}()"
        )

    op.execute("CREATE TYPE message_role AS ENUM ('user', 'assistant')")
    op.execute(CREATED_AT_IMMUTABLE_FUNCTION)
    op.create_table(
        "messages",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("role", MESSAGE_ROLE, nullable=False),
        sa.Column("content", sa.String(length=5000), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        _timestamp_column("created_at"),
        sa.CheckConstraint("char_length(content) >= 1", name=op.f("ck_messages_content_length")),
        sa.CheckConstraint(
            f"content ~ '{NOT_BLANK_CLASS}'", name=op.f("ck_messages_content_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        op.f("ix_messages_conversation_id_created_at"),
        "messages",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER messages_created_at_immutable BEFORE UPDATE ON messages "
        "FOR EACH ROW EXECUTE FUNCTION created_at_immutable()"
    )


def downgrade() -> None:
    """Drop messages, the message_role type, the messages function, and conversations."""
    op.drop_index(op.f("ix_messages_conversation_id_created_at"), table_name="messages")
    op.drop_table("messages")
    op.execute("DROP FUNCTION created_at_immutable()")
    op.execute("DROP TYPE message_role")
    op.drop_index(op.f("ix_conversations_user_id_updated_at"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_user_id"), table_name="conversations")
    op.drop_table("conversations")
