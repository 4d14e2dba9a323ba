"""Timing shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(func: Callable[[], Any], repeats: int = 5, *, warm_up: bool = False) -> float:
    """The fastest of ``repeats`` calls, in seconds (after one untimed call if ``warm_up``)."""
    if warm_up:
        func()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best
