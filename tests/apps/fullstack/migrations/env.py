"""The app's env.py, as the template writes it: the URL comes from the app's settings."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

from tests.apps.fullstack.models import metadata

engine = create_engine(os.environ["FULLSTACK_DATABASE_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
