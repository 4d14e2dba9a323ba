"""Garbage left by a GUI test is collected on the GUI thread when the test ends.

A widget created in Python and left to the garbage collector may otherwise be collected
during a later test on one of its worker threads; shiboken then has Qt delete it on the
GUI thread, which can wait on a lock that worker holds while the worker waits for the
interpreter: a deadlock, seen in the History panel's tests. Collecting here, on the GUI
thread, deletes such widgets at once and in the right thread."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    yield
    gc.collect()
