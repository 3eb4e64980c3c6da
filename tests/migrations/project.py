"""Write small throwaway Alembic projects (models + versions) into a folder, for the tests.

The "good" project mirrors the reference backend's shape in miniature: revision 1 creates
``users`` and ``tasks`` (FK ON DELETE CASCADE, CHECK, VARCHAR(1000) description, timestamptz),
revision 2 creates ``notes`` with a native enum, an index on tasks and an updated_at trigger
function. Each broken variant replaces one fragment of a revision's source. The models are plain
SQLAlchemy tables on their own ``MetaData``, so they never touch ``SQLModel.metadata``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

__all__ = ["ENV_PY", "REV1", "REV2", "Project", "models_metadata", "write_project"]

ENV_PY = '''
from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

config = context.config
target_metadata = config.attributes.get("target_metadata")


def run(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


connectable = config.attributes.get("connection")
if isinstance(connectable, Connection):
    run(connectable)
else:
    engine = connectable or engine_from_config(
        config.get_section(config.config_ini_section), prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        run(connection)
        connection.commit()
'''

INI = """
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = postgresql+psycopg2://invalid/invalid
"""

REV1 = '''
"""users and tasks"""
import sqlalchemy as sa
from alembic import op

revision = "r1_users_tasks"
down_revision = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("char_length(btrim(title)) > 0", name="ck_tasks_title_not_blank"),
    )
    op.create_index("ix_tasks_user_id", "tasks", ["user_id"])


def downgrade():
    op.drop_index("ix_tasks_user_id", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("users")
'''

REV2 = '''
"""notes with a kind enum and an updated_at trigger"""
import sqlalchemy as sa
from alembic import op

revision = "r2_notes"
down_revision = "r1_users_tasks"

notekind = sa.Enum("user", "assistant", name="notekind")


def upgrade():
    op.execute(
        "CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$"
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Uuid(), sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", notekind, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.CheckConstraint("char_length(body) <= 5000", name="ck_notes_body_length"),
    )
    op.execute(
        "CREATE TRIGGER notes_updated_at BEFORE UPDATE ON notes "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.create_index("ix_tasks_user_id_completed", "tasks", ["user_id", "completed"])


def downgrade():
    op.drop_index("ix_tasks_user_id_completed", table_name="tasks")
    op.execute("DROP TRIGGER notes_updated_at ON notes")
    op.drop_table("notes")
    notekind.drop(op.get_bind())
    op.execute("DROP FUNCTION set_updated_at()")
'''

_TRIGGER_FN = sa.DDL(
    "CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$"
)
_TRIGGER = sa.DDL(
    "CREATE TRIGGER notes_updated_at BEFORE UPDATE ON notes "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
)


def models_metadata() -> sa.MetaData:
    """Return the models of the good project, on a MetaData of their own.

    The trigger function and trigger are attached as DDL events, so ``create_all`` builds them
    like the migrations do.
    """
    md = sa.MetaData()
    sa.Table(
        "users", md,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
    )
    sa.Table(
        "tasks", md,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("char_length(btrim(title)) > 0", name="ck_tasks_title_not_blank"),
        sa.Index("ix_tasks_user_id", "user_id"),
        sa.Index("ix_tasks_user_id_completed", "user_id", "completed"),
    )
    notes = sa.Table(
        "notes", md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Uuid(), sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.Enum("user", "assistant", name="notekind"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.CheckConstraint("char_length(body) <= 5000", name="ck_notes_body_length"),
    )
    sa.event.listen(notes, "before_create", _TRIGGER_FN)
    sa.event.listen(notes, "after_create", _TRIGGER)
    return md


@dataclass
class Project:
    """A written project: its ini path and the revision sources it holds."""

    root: Path
    revisions: dict[str, str] = field(default_factory=dict)

    @property
    def ini(self) -> Path:
        """Path of the project's alembic.ini."""
        return self.root / "alembic.ini"


def write_project(
    root: Path,
    revisions: dict[str, str] | None = None,
    replace: dict[str, tuple[str, str]] | None = None,
) -> Project:
    """Write alembic.ini, env.py and the revision files into ``root``; return the Project.

    ``revisions`` maps file stems to sources (default: the good REV1 and REV2); ``replace`` maps a
    stem to ``(old, new)`` text replaced once in that source, and fails if ``old`` is absent.
    """
    sources = dict(revisions or {"r1_users_tasks": REV1, "r2_notes": REV2})
    for stem, (old, new) in (replace or {}).items():
        assert old in sources[stem], f"{old!r} not in revision {stem}"
        sources[stem] = sources[stem].replace(old, new, 1)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(textwrap.dedent(INI).lstrip())
    (root / "migrations" / "env.py").write_text(ENV_PY.lstrip())
    (root / "migrations" / "script.py.mako").write_text("")
    for stem, source in sources.items():
        (versions / f"{stem}.py").write_text(source.lstrip())
    return Project(root, sources)
