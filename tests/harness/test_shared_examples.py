"""SCHEMAFUZZ_SHARED_EXAMPLES chooses which example databases the profiles use. Nothing here
touches the network: the GitHub and Redis databases are lazy, so only their composition is
checked, and the Redis round trip runs only where a Redis server answers locally."""

from __future__ import annotations

import builtins
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from schemafuzz.harness import HarnessError
from schemafuzz.harness.profiles import (
    DEFAULT_ARTIFACT,
    example_database,
    profile_name,
    register_profiles,
)


@pytest.fixture(autouse=True)
def _examples_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCHEMAFUZZ_EXAMPLES_DIR", str(tmp_path / "examples"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)


def _parts(database: ExampleDatabase) -> list[ExampleDatabase]:
    assert isinstance(database, MultiplexedDatabase)
    return list(database._wrapped)


def test_unset_means_the_local_folder_only(tmp_path: Path) -> None:
    for value in (None, "", "  "):
        database = example_database(value)
        assert isinstance(database, DirectoryBasedExampleDatabase)
        assert Path(database.path) == tmp_path / "examples"


def test_github_artifact_is_read_only_beside_the_local_folder(tmp_path: Path) -> None:
    local, shared = _parts(example_database("github:acme/shop-api"))
    assert isinstance(local, DirectoryBasedExampleDatabase)
    assert Path(local.path) == tmp_path / "examples"
    assert isinstance(shared, ReadOnlyDatabase)
    artifact = shared._wrapped
    assert isinstance(artifact, GitHubArtifactDatabase)
    assert (artifact.owner, artifact.repo) == ("acme", "shop-api")
    assert artifact.artifact_name == DEFAULT_ARTIFACT == "schemafuzz-examples"
    assert artifact.path == tmp_path / "github-artifacts" / DEFAULT_ARTIFACT
    assert not artifact._initialized  # lazy: nothing was downloaded


def test_github_artifact_name_can_be_given() -> None:
    _, shared = _parts(example_database("github:acme/shop.api:nightly-examples"))
    assert isinstance(shared, ReadOnlyDatabase)
    assert shared._wrapped.artifact_name == "nightly-examples"  # type: ignore[attr-defined]


def test_writes_go_to_the_local_folder_only(tmp_path: Path) -> None:
    database = example_database("github:acme/shop-api")
    _, shared = _parts(database)
    # A fetch would download; the write path must not touch the shared part at all.
    shared._wrapped.fetch = lambda key: pytest.fail("read-only part was asked")  # type: ignore
    database.save(b"key", b"failing example")
    assert list(DirectoryBasedExampleDatabase(tmp_path / "examples").fetch(b"key")) == [
        b"failing example"]


@pytest.mark.parametrize("value", [
    "github:acme", "github:acme/", "github:/shop", "github:ac me/shop", "github:a/b:c/d",
])
def test_malformed_github_values_say_the_form(value: str) -> None:
    with pytest.raises(HarnessError, match=r"github:OWNER/REPO or github:OWNER/REPO:ARTIFACT"):
        example_database(value)


@pytest.mark.parametrize("value", ["s3://bucket/examples", "acme/shop", "http://host/x"])
def test_unknown_values_name_both_forms(value: str) -> None:
    with pytest.raises(HarnessError) as raised:
        example_database(value)
    message = str(raised.value)
    assert "SCHEMAFUZZ_SHARED_EXAMPLES" in message and repr(value) in message
    assert "github:OWNER/REPO[:ARTIFACT]" in message and "redis://HOST:PORT/DB" in message


def test_redis_is_read_and_written_beside_the_local_folder() -> None:
    pytest.importorskip("redis", reason="the optional `redis` package is not installed")
    from hypothesis.extra.redis import RedisExampleDatabase

    local, shared = _parts(example_database("redis://cache.example:6380/3"))
    assert isinstance(local, DirectoryBasedExampleDatabase)
    assert isinstance(shared, RedisExampleDatabase)  # not wrapped read-only
    kwargs = shared.redis.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.example", 6380, 3)


def test_missing_redis_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_redis(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "redis" or name.startswith("redis."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_redis)
    with pytest.raises(HarnessError, match=r"pip install 'schemafuzz\[redis\]'"):
        example_database("redis://localhost:6379/0")


def test_profiles_take_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    before = settings.get_current_profile_name()
    monkeypatch.setenv("SCHEMAFUZZ_SHARED_EXAMPLES", "github:acme/shop-api:examples")
    try:
        register_profiles()
        for profile in ("dev", "ci", "nightly"):
            database = settings.get_profile(profile_name(profile)).database
            assert isinstance(database, MultiplexedDatabase), profile
    finally:
        monkeypatch.delenv("SCHEMAFUZZ_SHARED_EXAMPLES")
        register_profiles()
        settings.load_profile(before)
    dev = settings.get_profile(profile_name("dev"))
    assert isinstance(dev.database, DirectoryBasedExampleDatabase)


def _local_redis() -> str | None:
    url = os.environ.get("SCHEMAFUZZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis
    except ImportError:
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError):
        return None
    finally:
        client.close()
    return url


def test_redis_round_trip_between_two_machines() -> None:
    url = _local_redis()
    if url is None:
        pytest.skip("no Redis server answers at $SCHEMAFUZZ_TEST_REDIS_URL "
                    "(default redis://127.0.0.1:6379/15)")
    key = f"schemafuzz-test-{uuid.uuid4()}".encode()
    writer, reader = example_database(url), example_database(url)
    _, shared = _parts(reader)
    try:
        writer.save(key, b"failing example")
        assert list(shared.fetch(key)) == [b"failing example"]
    finally:
        writer.delete(key, b"failing example")


def test_a_bad_shared_examples_value_is_one_usage_line(tmp_path: Path) -> None:
    from tests.harness.conftest import run_pytest

    result = run_pytest(tmp_path, "def test_nothing():\n    pass\n",
                        env={"SCHEMAFUZZ_SHARED_EXAMPLES": "bogus"})
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "schemafuzz: SCHEMAFUZZ_SHARED_EXAMPLES='bogus' is not understood" in output
    assert "Traceback" not in output
