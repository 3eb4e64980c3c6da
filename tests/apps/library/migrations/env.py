"""The library's env.py, as an application would write it: the URL comes from the app's own
setting ``LIBRARY_DATABASE_URL`` and the migrations run on an engine made here (it ignores a
connection handed in by a caller). The suite cannot know that setting: it runs these revisions
with ``--schemafuzz-alembic-env suite``."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

from tests.apps.library.models import metadata

config = context.config
url = os.environ["LIBRARY_DATABASE_URL"]

if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
