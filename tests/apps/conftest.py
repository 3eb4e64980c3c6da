"""Run `pytest properties` on one of the example apps, in a child process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The rules only each app's models enforce (min_length=1 without a CHECK, ...), which the apps
# accept: with them accepted the apps are green, and the reports list what was accepted.
ACCEPTED_UNGUARDED = {
    "library": "authors.name:min_length,books.title:min_length,books.isbn:min_length,"
               "books.pages:le,loans.borrower:min_length",
    "shop": "categories.name:min_length,products.sku:min_length,products.name:min_length",
    "notes.models": "notebooks.title:min_length,notes.body:min_length",
    "tracker.models": "tickets.summary:min_length",
    "fullstack": "item.title:min_length",
}
PROPERTIES = ROOT / "properties"
APPS = Path(__file__).resolve().parent


def run_properties(tmp_path: Path, schemafuzz_server: Any, app: str, ini: str | None,
                   *args: str, target: str = "", accept: bool = True
                   ) -> subprocess.CompletedProcess[str]:
    """Run ``pytest properties[/target] --schemafuzz-models tests.apps.<app>.models
    [--schemafuzz-alembic-ini tests/apps/<app>/<ini>] [--schemafuzz-accept-unguarded <the app's
    ACCEPTED_UNGUARDED>] ARGS`` from ``tmp_path`` (reports land there) on ``pg_server``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["SCHEMAFUZZ_EXAMPLES_DIR"] = str(tmp_path / "examples")
    admin = schemafuzz_server.admin_url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(PROPERTIES / target), "-q", "-rfEs", "--tb=line",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "--schemafuzz-db-url", admin, "--schemafuzz-models", f"tests.apps.{app}.models",
         *(["--schemafuzz-alembic-ini", str(APPS / app / ini)] if ini else []),
         *(["--schemafuzz-accept-unguarded", ACCEPTED_UNGUARDED[app]]
           if accept and app in ACCEPTED_UNGUARDED else []), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def failed_tests(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The failed tests of a child run, as ``test_name[param]``."""
    return set(re.findall(r"^FAILED \S*?::(.+?)(?: - .*)?$", result.stdout, re.MULTILINE))
