"""Redraw speed of a 100,000-point curve in the Live panel's plot, offscreen.

    .venv/bin/python benchmarks/bench_live_plot.py [POINTS]

Our PlotWidget (``cockpit.panels.live.plots.make_plot``: peak downsampling, clip to view,
no finite check, a grid at the labelled ticks only) against a bare default
``pg.PlotWidget().plot(x, y)``, side by side:

1. pan and zoom: every frame moves and rescales the x range (from the whole curve down to
   a twentieth of it) and repaints the view;
2. live growth: every frame appends 25 points (100 lines/s at the panel's 4 ticks/s),
   hands the whole arrays to setData as the panel does, and repaints with the x range
   following the data (auto range).
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cockpit.panels.live.metrics import Series  # noqa: E402
from cockpit.panels.live.plots import curve_item, make_plot  # noqa: E402

SECONDS = 1.5  # per measurement
ROUNDS = 3  # ours and bare alternate; the best round of each counts (a shared machine)


def curve(points: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.arange(1, points + 1, dtype=float)
    y = 0.08 + 1.1 * np.exp(-x / (points / 8)) + rng.normal(0, 0.06, points)
    return x, y


def ours(app: QApplication) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    widget = make_plot("Loss", "step", "loss")
    item = curve_item("train_step", "", None)
    widget.getPlotItem().addItem(item)
    return widget, item


def bare(app: QApplication) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    widget = pg.PlotWidget()
    return widget, widget.plot()


def frames(widget: pg.PlotWidget, step, seconds: float = SECONDS) -> float:
    """Repaints per second while ``step(i)`` changes the view or the data, then the event
    loop runs (and repaints what changed) — counted at the scene's prepare-for-paint."""
    app = QApplication.instance()
    paints = [0]
    widget.scene().sigPrepareForPaint.connect(lambda: paints.__setitem__(0, paints[0] + 1))
    app.processEvents()
    paints[0], count, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(count)
        app.processEvents()
        count += 1
    elapsed = time.perf_counter() - start
    if paints[0] < count * 0.9:
        raise RuntimeError(f"only {paints[0]} repaints for {count} frames")
    return paints[0] / elapsed


def pan_zoom(widget: pg.PlotWidget, item: pg.PlotDataItem, x, y) -> float:
    item.setData(x, y)
    box = widget.getPlotItem().getViewBox()
    box.setYRange(float(y.min()), float(y.max()))
    total = float(x[-1])

    def step(i: int) -> None:
        width = total * (0.05 + 0.95 * (0.5 + 0.5 * math.cos(i / 15)))  # zoom in and out
        left = (total - width) * (0.5 + 0.5 * math.sin(i / 7))  # and pan
        box.setXRange(left, left + width, padding=0)

    return frames(widget, step)


def growth(widget: pg.PlotWidget, item: pg.PlotDataItem, x, y) -> float:
    series = Series()
    for a, b in zip(x, y, strict=True):
        series.append(a, b)
    box = widget.getPlotItem().getViewBox()
    box.enableAutoRange()
    rng = np.random.default_rng(1)

    def step(_i: int) -> None:
        for _ in range(25):
            series.append(series.x[-1] + 1, 0.08 + rng.normal(0, 0.06))
        item.setData(series.x, series.y)

    return frames(widget, step)


def main(points: int) -> None:
    app = QApplication.instance() or QApplication([])
    x, y = curve(points)
    print(
        f"curve: {points:,} points, widget 1000x600 offscreen, best of {ROUNDS} rounds of "
        f"{SECONDS} s"
    )
    results: dict[str, dict[str, float]] = {"ours": {}, "bare": {}}
    for _round in range(ROUNDS):
        for label, run in (("pan/zoom", pan_zoom), ("growth", growth)):
            for name, make in (("ours", ours), ("bare", bare)):
                widget, item = make(app)
                widget.resize(1000, 600)
                widget.show()
                app.processEvents()
                fps = run(widget, item, x, y)
                results[name][label] = max(results[name].get(label, 0.0), fps)
                widget.close()
                widget.deleteLater()
                app.processEvents()
    print(f"{'':28}{'ours fps':>10}{'bare fps':>10}{'ratio':>8}")
    for label in ("pan/zoom", "growth"):
        a, b = results["ours"][label], results["bare"][label]
        print(f"{label + ' (goal >= 30 fps)':28}{a:10.1f}{b:10.1f}{a / b:7.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
