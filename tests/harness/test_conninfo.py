"""Reading where a connection would go (``schemafuzz.harness.conninfo``), as libpq would."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from schemafuzz.harness.conninfo import (
    Target,
    client_targets,
    libpq_targets,
    parse_conninfo,
    shell_targets,
    url_targets,
)


def test_libpq_defaults_and_variables_fill_the_gaps() -> None:
    env = {"PGHOST": "db.internal", "PGPORT": "6432", "PGUSER": "app"}
    assert libpq_targets({"dbname": "shop"}, env) == [Target("db.internal", 6432, "shop", "app")]
    # the database defaults to the user's name; explicit parameters beat the variables
    assert libpq_targets({"host": "h", "user": "u"}, env) == [Target("h", 6432, "u", "u")]


def test_every_host_of_a_multi_host_string_is_a_target() -> None:
    params = parse_conninfo("postgresql://u:pw@primary,replica:5433/app?sslmode=require")
    assert libpq_targets(params, {}) == [
        Target("primary", 5432, "app", "u", password=True),
        Target("replica", 5433, "app", "u", password=True),
    ]


def test_a_service_or_an_unreadable_string_matches_no_permit() -> None:
    assert libpq_targets({"service": "prod"}, {})[0].host == "service=prod"
    assert libpq_targets(parse_conninfo("host=a dbname"), {})[0].host.startswith("service=")


def test_describe_masks_the_password_and_names_sockets() -> None:
    assert Target("db", 5432, "app", "u", password=True).describe() == \
        "postgresql://u:***@db:5432/app"
    assert Target("/run/pg", 5432, "app", "u").describe() == \
        "postgresql://u@/app?host=/run/pg&port=5432"


def test_loopback_names_are_one_server() -> None:
    assert Target("localhost", 5432, "a").server == Target("127.0.0.1", 5432, "b").server
    assert url_targets(make_url("postgresql://u@127.0.0.1:1/x"))[0].server == ("loopback", 1)


def test_client_programs_are_read_like_psql_reads_its_arguments() -> None:
    env: dict[str, str] = {}
    assert client_targets(["/usr/bin/psql", "-X", "-h", "prod", "-p5433", "-U", "me", "-c",
                           "select 1", "app"], env) == [Target("prod", 5433, "app", "me")]
    assert client_targets(["pg_dump", "--host=prod", "--dbname", "postgresql://u@/shop?host=/s"],
                          env) == [Target("/s", 5432, "shop", "u")]
    assert client_targets(["psql", "-d", "host=a port=1 dbname=b user=c", "-f", "x.sql"],
                          env) == [Target("a", 1, "b", "c")]
    assert client_targets(["psql", "shop", "bob"], {"PGHOST": "h"}) == [
        Target("h", 5432, "shop", "bob")]
    assert client_targets(["python", "-c", "print(1)"], env) is None


def test_shell_command_lines_are_split_into_commands() -> None:
    found = list(shell_targets("cd /tmp && PGHOST=prod pg_dump app | gzip > a.gz", {}))
    assert [(program, [t.host for t in targets]) for program, targets in found] == [
        ("pg_dump", ["prod"])]
