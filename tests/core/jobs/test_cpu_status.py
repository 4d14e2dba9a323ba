"""The CPU line never shows psutil's meaningless first reading ("load 0 %")."""

import importlib
import time

import core.jobs.gpus


def test_the_first_cpu_reading_is_none_then_a_real_load():
    gpus = importlib.reload(core.jobs.gpus)  # a fresh process's state
    assert gpus.cpu_status().load_percent is None
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:  # keep one core busy between the readings
        pass
    load = gpus.cpu_status().load_percent
    assert load is not None and 0 < load <= 100


def test_the_queue_status_line_leaves_out_the_load_until_it_is_known(monkeypatch):
    from cockpit.panels.queue.status import device_text

    gpus = importlib.reload(core.jobs.gpus)
    monkeypatch.setattr(gpus, "gpu_status", lambda: [])
    first = device_text()
    assert "load" not in first and "cores" in first
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
    second = device_text()
    assert "load " in second and "load 0 %" not in second
