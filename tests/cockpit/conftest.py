"""No garbage collection on a worker thread during a GUI test.

Python collects garbage on whichever thread allocates. When a worker thread (a panel's
background read) collects a Qt object, Qt's destructor may wait for the interpreter while
holding a lock that the GUI thread, deleting another object, waits for: a deadlock (seen
in the History and main-window tests). The application collects on its GUI thread only
(``cockpit.app``); tests do the same: collection is off while a test runs and done on this
thread, between tests, where no worker runs."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread_only():
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)  # the young generations now; older ones when their threshold says
