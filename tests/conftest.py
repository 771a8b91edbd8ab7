"""Shared fixtures: the public data directory, skipped with a reason when absent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from exprlab._config import data_dir as _data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The public data directory (``EXPRLAB_DATA``); real-data tests skip when it is absent."""
    found = _data_dir(required=False)
    if found is None:
        pytest.skip("public data directory absent: set EXPRLAB_DATA to run real-data tests")
    return found


@pytest.fixture(autouse=True)
def _exprlab_log_reaches_caplog():
    """Give each test an ``exprlab`` logger that propagates to the root, where caplog listens.

    A CLI call inside a test turns propagation off (its console handler prints instead); older
    pytest versions then miss the records of every later test in the same process.
    """
    logging.getLogger("exprlab").propagate = True
    yield


def pytest_collection_modifyitems(config, items):
    """Mark every test that reads the public data directory as ``realdata``.

    The marker follows the fixture, so ``make test-fast`` (``-m "not slow and not realdata"``) can
    never run a test that needs the data, however the test was written. The runs of the
    documents go first.
    """
    for item in items:
        if "data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)
    # the documents' runs are the longest tests by far: started first, parallel workers
    # (``make test`` runs two or more) share them out and end together instead of one waiting
    # on the last of them
    items.sort(key=lambda item: item.originalname != "test_document_runs_as_typed")
