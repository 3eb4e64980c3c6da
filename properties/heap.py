"""Keeps what a run builds before its first test out of the garbage collector's scans.

Collection, the app's models, SQLAlchemy's metadata and the strategies' plans are hundreds of
thousands of long-lived objects; every full collection during the properties scanned them all
again (about 7% of the constraint properties' time, profiled with ``bench/throughput.py``).
``gc.freeze`` moves them to the permanent generation once collection is over (the standard
library's own remedy for such a heap); they return to the collector when the session ends.
"""

from __future__ import annotations

import gc

import pytest

__all__: list[str] = []


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()  # what is already garbage is freed, not frozen
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    gc.unfreeze()
