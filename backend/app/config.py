"""Application settings: where the database is, checked before anything connects.

``DATABASE_URL`` comes from the environment or a ``.env`` file (``backend/.env``, then ``./.env``;
the environment wins).  It must be a PostgreSQL URL; a host other than this machine needs
``sslmode=require`` (or ``verify-ca``/``verify-full``).  The password never appears in a repr, a
str, a log line or an error: the raw value is a ``SecretStr`` and the parsed
:class:`sqlalchemy.engine.URL` masks it (``***``) when rendered.

Errors are :class:`DatabaseConfigError`: one line naming the variable, the problem and the fix,
raised ``from None`` so no chained traceback can echo the URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "LOCAL_HOSTS",
    "SECURE_SSLMODES",
    "DatabaseConfigError",
    "Settings",
    "get_settings",
    "parse_database_url",
]

BACKEND_DIR = Path(__file__).resolve().parent.parent

#: Hosts that never leave the machine (an empty host means the default Unix socket).
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1", "[::1]"})
#: libpq ``sslmode`` values that refuse an unencrypted connection.
SECURE_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})

_EXAMPLE = "postgresql+psycopg2://USER:PASSWORD@HOST:5432/DBNAME"
_DRIVER = "postgresql+psycopg2"


class DatabaseConfigError(ValueError):
    """``DATABASE_URL`` is missing or unusable; the message is one line and holds no password."""


def _is_local(host: str) -> bool:
    """Return True when ``host`` is a loopback name/address or a Unix-socket directory."""
    return host.lower() in LOCAL_HOSTS or host.startswith("/") or host.startswith("127.")


def parse_database_url(raw: str | URL, *, variable: str = "DATABASE_URL") -> URL:
    """Return ``raw`` as a SQLAlchemy ``URL`` for psycopg2, after checking it is safe to use.

    ``postgres://`` and ``postgresql://`` (as printed by Neon, Heroku, ...) are mapped to the
    psycopg2 driver.  Raises :class:`DatabaseConfigError` (one line, password-free, naming
    ``variable``) when the value is empty, unparsable, not PostgreSQL, or points at a non-local
    host without ``sslmode=require``/``verify-ca``/``verify-full``.
    """
    if isinstance(raw, str):
        if not raw.strip():
            raise DatabaseConfigError(
                f"{variable} is empty: set it to {_EXAMPLE} (see backend/.env.example)"
            )
        try:
            url = make_url(raw.strip())
        except (ArgumentError, ValueError):
            # The library's message quotes the URL, password included: replace it.
            raise DatabaseConfigError(
                f"{variable} is not a valid database URL: expected {_EXAMPLE}"
            ) from None
    else:
        url = raw
    backend = url.get_backend_name()
    if backend == "postgres":
        url = url.set(drivername=_DRIVER)
    elif backend != "postgresql":
        raise DatabaseConfigError(
            f"{variable} must be a PostgreSQL URL (got scheme {url.drivername!r}): "
            f"expected {_EXAMPLE}"
        )
    elif url.drivername == "postgresql":
        url = url.set(drivername=_DRIVER)
    if not url.database:
        raise DatabaseConfigError(f"{variable} names no database: expected {_EXAMPLE}")
    hosts = _hosts(url)
    remote = [host for host in hosts if not _is_local(host)]
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, tuple):
        sslmode = sslmode[-1]
    if remote and sslmode not in SECURE_SSLMODES:
        raise DatabaseConfigError(
            f"{variable} points at remote host {remote[0]!r} without SSL "
            f"(sslmode={sslmode or 'unset'}): append '?sslmode=require' "
            "(or verify-ca / verify-full) to the URL"
        )
    return url


def _hosts(url: URL) -> list[str]:
    """Return every host ``url`` connects to (its host and any ``host=`` query values)."""
    hosts = [url.host or ""]
    extra = url.query.get("host")
    if isinstance(extra, str):
        extra = (extra,)
    for value in extra or ():
        hosts.extend(part.split(":")[0] for part in value.split(","))
    return [host for host in hosts if host] or [""]


class Settings(BaseSettings):
    """Settings read from the environment and ``.env``; ``Settings()`` raises on bad input.

    Prefer :func:`get_settings`, which turns validation errors into a one-line
    :class:`DatabaseConfigError`.
    """

    model_config = SettingsConfigDict(
        env_file=(BACKEND_DIR / ".env", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    database_url: SecretStr

    @property
    def url(self) -> URL:
        """Return the checked SQLAlchemy URL (its str/repr mask the password).

        Raises :class:`DatabaseConfigError` when ``DATABASE_URL`` is unusable.
        """
        return parse_database_url(self.database_url.get_secret_value())

    @property
    def masked_url(self) -> str:
        """Return the URL as text with the password replaced by ``***``."""
        return self.url.render_as_string(hide_password=True)

    def model_post_init(self, context: Any, /) -> None:
        """Validate ``DATABASE_URL`` eagerly so a bad value fails at start-up."""
        self.url  # noqa: B018 - evaluated for its checks

    def __repr__(self) -> str:
        return f"Settings(database_url={self.masked_url!r})"

    __str__ = __repr__


def get_settings(**overrides: Any) -> Settings:
    """Return validated :class:`Settings`; ``overrides`` go to ``Settings`` (e.g. ``_env_file``).

    Raises :class:`DatabaseConfigError` with a one-line, password-free message when
    ``DATABASE_URL`` is missing or unusable.
    """
    try:
        return Settings(**overrides)
    except ValidationError as error:
        missing = any(item["type"] == "missing" for item in error.errors())
        if missing:
            raise DatabaseConfigError(
                f"DATABASE_URL is not set: export DATABASE_URL={_EXAMPLE} "
                "or put it in backend/.env (see backend/.env.example)"
            ) from None
        for item in error.errors():
            cause = item.get("ctx", {}).get("error")
            if isinstance(cause, DatabaseConfigError):
                raise DatabaseConfigError(str(cause)) from None
        raise DatabaseConfigError(
            "DATABASE_URL is invalid: " + "; ".join(item["msg"] for item in error.errors())
        ) from None
