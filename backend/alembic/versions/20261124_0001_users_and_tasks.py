"""users and tasks, with the timestamp trigger functions

Revision ID: 0001
Revises:
Create Date: 2026-11-24 12:20:05.192298+00:00

Frozen copy of the schema as of this revision (do not import application code here):
tables ``users`` and ``tasks``, their CHECK/FK/unique constraints and indexes, and the
``timestamps_before_insert()``/``timestamps_before_update()`` functions with their triggers
(see ``backend/app/models/_timestamps.py`` for why they exist).
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Python's str.isspace() set as a regex bracket body (backend/app/models/_text.py).
NOT_BLANK_CLASS = (
    r"[^\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]"
)

BEFORE_INSERT_FUNCTION = """\
CREATE OR REPLACE FUNCTION timestamps_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Both columns default to now(): a value equal to now() was (almost surely) defaulted.
    IF NEW.updated_at < NEW.created_at THEN
        IF NEW.updated_at = now() THEN
            NEW.updated_at := NEW.created_at;
        ELSIF NEW.created_at = now() THEN
            NEW.created_at := NEW.updated_at;
        END IF;
    END IF;
    RETURN NEW;
END;
$$"""

BEFORE_UPDATE_FUNCTION = """\
CREATE OR REPLACE FUNCTION timestamps_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    RETURN NEW;
END;
$$"""


def _timestamp_columns() -> list[sa.Column[datetime]]:
    """Return fresh created_at/updated_at columns (timestamptz NOT NULL DEFAULT now())."""
    return [
        sa.Column(
            name,
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def _create_timestamp_triggers(table: str) -> None:
    """Attach the BEFORE INSERT and BEFORE UPDATE timestamp triggers to ``table``."""
    for when in ("insert", "update"):
        op.execute(
            f"CREATE TRIGGER {table}_timestamps_before_{when} BEFORE {when.upper()} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION timestamps_before_{when}()"
        )


def upgrade() -> None:
    """Create users and tasks, the timestamp functions and their triggers."""
    op.execute(BEFORE_INSERT_FUNCTION)
    op.execute(BEFORE_UPDATE_FUNCTION)
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        *_timestamp_columns(),
        sa.CheckConstraint("char_length(email) >= 1", name=op.f("ck_users_email_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    _create_timestamp_triggers("users")
    op.create_table(
        "tasks",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("completed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        *_timestamp_columns(),
        sa.CheckConstraint("char_length(title) >= 1", name=op.f("ck_tasks_title_length")),
        sa.CheckConstraint(f"title ~ '{NOT_BLANK_CLASS}'", name=op.f("ck_tasks_title_not_blank")),
        sa.CheckConstraint(
            "updated_at >= created_at", name=op.f("ck_tasks_updated_at_gte_created_at")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tasks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_user_id"), "tasks", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_tasks_user_id_completed"), "tasks", ["user_id", "completed"], unique=False
    )
    _create_timestamp_triggers("tasks")


def downgrade() -> None:
    """Drop tasks and users (their triggers go with them), then the timestamp functions."""
    op.drop_index(op.f("ix_tasks_user_id_completed"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_user_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("users")
    op.execute("DROP FUNCTION timestamps_before_update()")
    op.execute("DROP FUNCTION timestamps_before_insert()")
