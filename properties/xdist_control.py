"""pytest-xdist: one server and one schema build for all workers, the longest properties first.

The controller starts the server and builds a template database once, before the workers
start; each worker copies the template (``CREATE DATABASE ... TEMPLATE``), which is much faster
than migrating per worker. The controller drops every database of the run at the end, so a
worker that dies leaves nothing behind.

Each worker collects the stateful machines first. They are the longest properties by far (each
example is a whole sequence of steps), and at their place in file order they came last, in one
of xdist's batches: one worker ran both while the other sat idle for seconds. Run first, they
start on the workers at once and the short properties fill in behind them. A serial run keeps
file order, so its report reads in the same order as ever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from .collection import inside_package
from .fixtures import (
    PROVISIONED_KEY,
    build_schema_database,
    close_provisioned,
    setup_errors_end_the_run,
    worker_share,
)
from .harness import guard, provision
from .harness.schema import MigrationsBlocked
from .subject import under_test_of

__all__ = ["RUN_ID_KEY", "machines_first", "permit_shared_server", "register"]

RUN_ID_KEY = pytest.StashKey[str]()  # set in the controller: whose report parts to merge
STATEFUL_MODULE = "test_stateful.py"  # the built-in stateful machines' module


def machines_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: the built-in stateful machines first, every other item after
    them in the order it had. Returns nothing; never raises."""
    items.sort(key=lambda item: not (Path(item.path).name == STATEFUL_MODULE
                                     and inside_package(Path(item.path))))


def permit_shared_server(config: pytest.Config) -> None:
    """In an xdist worker: allow the server the controller provisioned (no-op elsewhere)."""
    share = worker_share(config)
    if share is None:
        return
    admin = make_url(share["admin_url"])
    if share.get("owned"):
        guard.permit_server(admin)
    else:
        guard.permit_database(admin)


def _is_controller(config: pytest.Config) -> bool:
    return (getattr(config, "workerinput", None) is None
            and bool(config.getoption("numprocesses", default=None))
            and config.pluginmanager.has_plugin("dsession"))


def register(config: pytest.Config) -> None:
    """Register the controller's hooks when pytest-xdist is installed."""
    if config.pluginmanager.has_plugin("xdist"):
        config.pluginmanager.register(_Controller(config), "schemafuzz.xdist_control")
    if getattr(config, "workerinput", None) is not None:
        config.pluginmanager.register(_Worker(), "schemafuzz.xdist_worker")


class _Worker:
    # trylast: after -k, --lf and sharding plugins have chosen the items; every worker sorts
    # the same collection the same way, as xdist requires.
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        machines_first(items)


class _Controller:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.share: dict[str, str] | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not _is_controller(self.config):
            return
        under_test = under_test_of(self.config)
        with setup_errors_end_the_run():
            provisioned = provision(under_test.db_url)
            self.config.stash[PROVISIONED_KEY] = provisioned
            try:
                template = str(build_schema_database(under_test, provisioned.factory).database)
                blocked = ""
            except MigrationsBlocked as finding:
                template, blocked = "", str(finding)
        self.config.stash[RUN_ID_KEY] = provisioned.factory.run_id
        self.share = {
            "admin_url": provisioned.factory.admin_url.render_as_string(hide_password=False),
            "run_id": provisioned.factory.run_id,
            "template": template,
            "blocked": blocked,
            "owned": "yes" if provisioned.throwaway is not None else "",
        }

    def pytest_configure_node(self, node: Any) -> None:
        if self.share is not None:
            node.workerinput["schemafuzz"] = self.share

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.share is not None:
            close_provisioned(self.config)
