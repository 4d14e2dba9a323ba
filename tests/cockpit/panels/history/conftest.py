"""The shared history workspace, and garbage collected on the GUI thread after each test.

A History panel created in Python and left to the garbage collector may otherwise be
collected during a later test on one of its worker threads; shiboken then has Qt delete it
on the GUI thread, which can wait on a lock that worker holds while the worker waits for
the interpreter: a deadlock, seen in the plot-job test. Collecting here, on the GUI thread,
deletes such panels at once and in the right thread (only here: a collection costs about a
second with the training libraries loaded)."""

from __future__ import annotations

import gc

import pytest

from tests.core.history.history_workspace import history  # noqa: F401  (shared, session)


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    yield
    gc.collect()
