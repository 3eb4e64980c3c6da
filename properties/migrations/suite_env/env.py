"""The suite's own Alembic environment (``--schemafuzz-alembic-env suite``).

Runs another project's revisions without that project's env.py, which may need settings the
suite cannot know (a secrets file, a URL variable, an app factory). Alembic's ``script_location``
points here and ``version_locations`` at the project's versions folders
(:func:`schemafuzz.migrations.environment.use_suite_env`); this env.py takes:

- the connection from ``config.attributes["connection"]`` (the suite always supplies one);
- ``target_metadata`` from ``config.attributes["target_metadata"]`` (the ``--schemafuzz-models``
metadata);
- Alembic's defaults for everything else (``alembic_version`` in the default schema), with type
  and server-default comparison on, as ``alembic check`` should run.

Offline mode (``--sql``) renders against ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from alembic.util import CommandError
from sqlalchemy.engine import Connection

config = context.config
target_metadata = config.attributes.get("target_metadata")


def _run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, target_metadata=target_metadata,
                      compare_type=True, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise CommandError(
            "the schemafuzz suite environment (--schemafuzz-alembic-env suite) runs migrations "
            "only on "
            "the connection the suite passes in config.attributes['connection']; run your "
            "project's own alembic commands with its own env.py"
        )
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
