"""Every example of a `db` test starts from the same state; profiles are chosen as documented."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from schemafuzz.harness import Sandbox, choose_profile
from schemafuzz.harness.profiles import profile_name

SEEN_COUNTS: list[int] = []


@given(rows=st.integers(min_value=0, max_value=5))
@settings(max_examples=25)
def test_each_example_starts_empty(schemafuzz_db: Sandbox, rows: int) -> None:
    schemafuzz_db.execute("CREATE TABLE IF NOT EXISTS per_example (n int NOT NULL)")
    assert schemafuzz_db.execute("SELECT count(*) FROM per_example").scalar() == 0
    for n in range(rows):
        schemafuzz_db.execute("INSERT INTO per_example VALUES (:n)", {"n": n})
    assert schemafuzz_db.try_execute("INSERT INTO per_example VALUES (NULL)") == "23502"
    # The failed statement was undone by its own savepoint; the sandbox is still usable.
    assert schemafuzz_db.execute("SELECT count(*) FROM per_example").scalar() == rows
    SEEN_COUNTS.append(rows)


def test_examples_really_ran() -> None:
    assert len(SEEN_COUNTS) > 5 and max(SEEN_COUNTS) > 0


def test_nothing_survives_the_test(schemafuzz_db: Sandbox) -> None:
    exists = schemafuzz_db.execute("SELECT to_regclass('per_example') IS NOT NULL").scalar()
    assert exists is False


def test_orm_commit_stays_inside_the_sandbox(schemafuzz_db: Sandbox) -> None:
    schemafuzz_db.execute("CREATE TABLE orm_scratch (n int)")
    session = schemafuzz_db.session()
    session.execute(sa.text("INSERT INTO orm_scratch VALUES (1)"))
    session.commit()
    assert schemafuzz_db.execute("SELECT count(*) FROM orm_scratch").scalar() == 1
    assert schemafuzz_db.connection.in_transaction()


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        ("nightly", {"CI": "true"}, "nightly"),
        (None, {"SCHEMAFUZZ_PROFILE": "nightly", "CI": "true"}, "nightly"),
        (None, {"CI": "true"}, "ci"),
        (None, {"CI": "false"}, "dev"),
        (None, {}, "dev"),
    ],
)
def test_profile_choice(monkeypatch: pytest.MonkeyPatch, option: str | None,
                        env: dict[str, str], expected: str) -> None:
    for name in ("CI", "SCHEMAFUZZ_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert choose_profile(option) == expected


def test_ci_profile_keeps_an_example_database() -> None:
    ci = settings.get_profile(profile_name("ci"))
    assert ci.database is not None
    assert ci.derandomize is False
    assert settings.get_profile(profile_name("nightly")).max_examples > ci.max_examples
