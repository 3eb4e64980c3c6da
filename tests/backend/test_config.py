"""DATABASE_URL handling: clear one-line errors, SSL for remote hosts, the password never shown.

No database is needed: nothing here connects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from backend.app.config import DatabaseConfigError, Settings, get_settings, parse_database_url
from backend.app.database import POOL_OPTIONS, create_db_engine

from ._support import ALEMBIC_INI

SECRET = "s3cr3t-Pa55"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test sees only the DATABASE_URL it sets, and no .env file."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def _error(raw: str | None, monkeypatch: pytest.MonkeyPatch) -> DatabaseConfigError:
    if raw is not None:
        monkeypatch.setenv("DATABASE_URL", raw)
    with pytest.raises(DatabaseConfigError) as caught:
        get_settings(_env_file=None)
    return caught.value


def _assert_clean(error: BaseException) -> None:
    message = str(error)
    assert "\n" not in message
    rendered = "".join(traceback.format_exception(error))
    assert SECRET not in rendered
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (None, "DATABASE_URL is not set"),
        ("", "DATABASE_URL is empty"),
        (f"not a url {SECRET}", "DATABASE_URL is not a valid database URL"),
        (f"postgresql://u:{SECRET}@localhost:notaport/db", "not a valid database URL"),
        (f"mysql://u:{SECRET}@localhost/db", "must be a PostgreSQL URL"),
        (f"postgresql://u:{SECRET}@localhost", "names no database"),
        (f"postgresql://u:{SECRET}@db.example.com/app", "remote host 'db.example.com' without SSL"),
        (f"postgresql://u:{SECRET}@db.example.com/app?sslmode=prefer", "sslmode=prefer"),
        (f"postgresql://u:{SECRET}@db.example.com/app?sslmode=disable", "sslmode=require"),
        (f"postgresql://u:{SECRET}@/app?host=db.example.com", "remote host 'db.example.com'"),
    ],
)
def test_misconfiguration_gives_one_clean_line(
    raw: str | None, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = _error(raw, monkeypatch)
    assert fragment in str(error)
    assert "DATABASE_URL" in str(error)
    _assert_clean(error)


@pytest.mark.parametrize(
    "raw",
    [
        f"postgresql://u:{SECRET}@localhost:5432/app",
        f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/app",
        f"postgresql://u:{SECRET}@[::1]/app",
        f"postgresql://u:{SECRET}@/app?host=/var/run/postgresql",
        f"postgres://u:{SECRET}@ep-cool-1.eu-central-1.aws.neon.tech/neondb?sslmode=require",
        f"postgresql://u:{SECRET}@db.example.com/app?sslmode=verify-full",
        f"postgresql://u:{SECRET}@db.example.com/app?sslmode=verify-ca",
    ],
)
def test_good_urls_are_accepted_and_masked(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    settings = get_settings(_env_file=None)
    assert settings.url.drivername == "postgresql+psycopg2"
    assert settings.url.password == SECRET
    for shown in (
        repr(settings),
        str(settings),
        repr(settings.url),
        str(settings.url),
        settings.masked_url,
        repr(settings.database_url),
    ):
        assert SECRET not in shown
    assert "***" in settings.masked_url


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATABASE_URL=postgresql://u:{SECRET}@localhost/fromfile\n")
    assert get_settings(_env_file=env_file).url.database == "fromfile"


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgresql://u@localhost/fromfile\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/fromenv")
    assert get_settings(_env_file=env_file).url.database == "fromenv"


def test_settings_validation_error_hides_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:{SECRET}@db.example.com/app")
    with pytest.raises(ValueError) as caught:
        Settings(_env_file=None)
    assert SECRET not in str(caught.value)


def test_engine_factory_applies_the_same_checks_and_pool_options() -> None:
    with pytest.raises(DatabaseConfigError, match="without SSL") as caught:
        create_db_engine(f"postgresql://u:{SECRET}@db.example.com/app")
    _assert_clean(caught.value)
    engine = create_db_engine(f"postgresql://u:{SECRET}@localhost/app")  # does not connect
    try:
        assert SECRET not in repr(engine)
        pool = engine.pool
        assert pool.size() == POOL_OPTIONS["pool_size"] == 5  # type: ignore[attr-defined]
        assert pool._max_overflow == 10  # type: ignore[attr-defined]
        assert pool._pre_ping is True
        assert pool._recycle == 3600
    finally:
        engine.dispose()


def test_parse_names_the_variable_it_checks() -> None:
    with pytest.raises(DatabaseConfigError, match=r"^sqlalchemy\.url points at remote host"):
        parse_database_url("postgresql://u@db.example.com/app", variable="sqlalchemy.url")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (None, "DATABASE_URL is not set"),
        (f"postgresql://u:{SECRET}@db.example.com/app", "without SSL"),
        (f"::{SECRET}::", "not a valid database URL"),
    ],
)
def test_alembic_cli_fails_with_one_line(raw: str | None, fragment: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if raw is not None:
        env["DATABASE_URL"] = raw
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "current"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    output = (result.stdout + result.stderr).splitlines()
    failed = [line for line in output if line.startswith("FAILED:")]
    assert len(failed) == 1 and fragment in failed[0], output
