"""``create_db_engine`` and ``get_session`` against a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlmodel import select

from backend.app.database import create_db_engine, get_session
from backend.app.models import User, metadata


@pytest.fixture
def engine(schemafuzz_fresh_db_url: URL) -> Iterator[sa.Engine]:
    engine = create_db_engine(schemafuzz_fresh_db_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _emails(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT email FROM users")).scalars())


def test_session_commits_on_success(engine: sa.Engine) -> None:
    with get_session(engine) as session:
        session.add(User.model_validate({"email": "kept@example.com"}))
    assert _emails(engine) == ["kept@example.com"]


def test_session_rolls_back_and_reraises_on_error(engine: sa.Engine) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), get_session(engine) as session:
        session.add(User.model_validate({"email": "lost@example.com"}))
        session.flush()
        raise Boom
    assert _emails(engine) == []


def test_session_rolls_back_a_failed_commit(engine: sa.Engine) -> None:
    with get_session(engine) as session:
        session.add(User.model_validate({"email": "dup@example.com"}))
    with pytest.raises(sa.exc.IntegrityError, match="uq_users_email"), get_session(engine) as s:
        s.add(User.model_validate({"email": "dup@example.com"}))
    assert _emails(engine) == ["dup@example.com"]


def test_session_is_closed_afterwards(engine: sa.Engine) -> None:
    with get_session(engine) as session:
        user = User.model_validate({"email": "a@example.com"})
        session.add(user)
        assert session.exec(select(User)).all() == [user]
    assert user not in session  # closed: the identity map was emptied
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_sessions_run_in_utc(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(sa.text("SHOW TimeZone")).scalar_one() == "UTC"


def test_explicit_options_in_the_url_are_kept(schemafuzz_fresh_db_url: URL) -> None:
    url = schemafuzz_fresh_db_url.update_query_dict({"options": "-c statement_timeout=1234"})
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar_one() == "1234ms"
            assert connection.execute(sa.text("SHOW TimeZone")).scalar_one() == "UTC"
    finally:
        engine.dispose()
