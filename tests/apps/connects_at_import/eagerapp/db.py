"""The app's engine, made from DATABASE_URL, and a start-up check that the database answers."""

import os

from sqlalchemy import create_engine, text

engine = create_engine(os.environ["DATABASE_URL"])

with engine.connect() as connection:  # fail fast at start-up when the database is down
    connection.execute(text("SELECT 1"))
