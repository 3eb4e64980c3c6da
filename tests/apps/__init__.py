"""Two small SQLModel + Alembic apps (and a broken variant of each) that are not ours: the
generic properties must run on them with `--schemafuzz-models` / `--schemafuzz-alembic-ini` and no
code changed."""
