"""The tracker's settings: an asyncpg URL, from the environment when set."""

import os

DATABASE_URL = os.environ.get("TRACKER_DATABASE_URL",
                              "postgresql+asyncpg://tracker:tracker@db:5432/tracker")
