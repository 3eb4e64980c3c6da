"""The app's env.py: it migrates on the app's own engine."""

from alembic import context
from eagerapp.db import engine
from eagerapp.models import metadata

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
