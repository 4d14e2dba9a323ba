"""The live plots: loss and accuracy curves of one or several jobs, and a study's trials.

Curves are set from whole numpy arrays, only when their series changed, and drawn with
pyqtgraph's peak downsampling and clipping to the visible range, so a curve of 100,000
points redraws as fast as one of a few thousand.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from cockpit.panels.live.metrics import CURVES, JobMetrics, RunCurves

#: one colour per job when several are overlaid (Okabe-Ito, readable by colour-blind users)
JOB_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#444444")
#: one colour per curve when a single job is shown
CURVE_COLOURS = {
    "train_step": "#9ecae1",
    "train_loss": "#2171b5",
    "valid_loss": "#D55E00",
    "train_acc": "#2171b5",
    "valid_acc": "#D55E00",
}
NEW_ITEMS_PER_REFRESH = 6
SYMBOLS_UP_TO = 100  # points; beyond, markers cost more than they tell
BACKGROUND = "#ffffff"
FOREGROUND = "#333333"


def make_plot(title: str, x_label: str, y_label: str, legend_at: str = "top") -> pg.PlotWidget:
    """A PlotWidget set up for long, growing curves; the legend sits in the top or bottom
    right corner, where the curves usually are not."""
    widget = pg.PlotWidget(background=BACKGROUND)
    item = widget.getPlotItem()
    item.setTitle(title, color=FOREGROUND, size="11pt")
    item.setLabel("bottom", x_label, color=FOREGROUND)
    item.setLabel("left", y_label, color=FOREGROUND)
    # no grid: pyqtgraph draws it with the axes, and it costs more than a 100,000-point curve
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(FOREGROUND)
        axis.setTextPen(FOREGROUND)
        axis.enableAutoSIPrefix(False)
    offset = (-10, 10) if legend_at == "top" else (-10, -10)
    legend = item.addLegend(offset=offset, labelTextColor=FOREGROUND)
    legend.setBrush(pg.mkBrush(255, 255, 255, 200))
    widget.setMinimumHeight(160)
    return widget


def _style(name: str, colour: str, overlay: bool) -> dict[str, Any]:
    base = QColor(colour if overlay else CURVE_COLOURS[name])
    if name == "train_step":
        base.setAlpha(110)
        return {"pen": pg.mkPen(base, width=1)}
    # thick and dashed pens cost most of a repaint: dashes only where they tell jobs' splits
    # apart, and then thin
    if name.startswith("train"):
        if overlay:
            return {"pen": pg.mkPen(base, width=1, style=Qt.PenStyle.DashLine)}
        return {"pen": pg.mkPen(base, width=2)}
    return {
        "pen": pg.mkPen(base, width=2),
        "symbol": "o",
        "symbolSize": 6,
        "symbolBrush": base,
        "symbolPen": None,
    }


def curve_item(name: str, colour: str, label: str | None) -> pg.PlotDataItem:
    """The item of one curve (``name`` in CURVES); ``label`` names its job when several
    are overlaid (None: one job, one colour per curve)."""
    title = CURVES[name][1]
    return pg.PlotDataItem(
        name=f"{label} · {title}" if label else title,
        skipFiniteCheck=True,
        autoDownsampleFactor=1.0,  # peak mode keeps each pixel's min and max
        **_style(name, colour, label is not None),
    )


class CurvePlots:
    """The loss and accuracy plots of the followed jobs (each job: its current run)."""

    def __init__(self, loss: pg.PlotWidget, acc: pg.PlotWidget) -> None:
        self.plots = {"loss": loss.getPlotItem(), "acc": acc.getPlotItem()}
        self._items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._drawn: dict[tuple[str, str], tuple[int, int]] = {}  # (run serial, version)
        self._new_items_left = NEW_ITEMS_PER_REFRESH

    def clear(self) -> None:
        for (_job, name), item in self._items.items():
            self.plots[CURVES[name][0]].removeItem(item)
        self._items.clear()
        self._drawn.clear()

    def new_items_allowed(self, count: int) -> None:
        """Curves created per refresh: each costs a legend relayout, so 4 jobs appearing
        at once get their 20 curves over a few refreshes instead of in one long stall."""
        self._new_items_left = count

    def update(self, job_id: str, run: RunCurves, colour: str, label: str | None) -> None:
        """Draw what changed in ``run``; ``label`` names the job in the legend when
        several jobs are overlaid (None: one job, one colour per curve)."""
        for name, series in run.curves.items():
            key = (job_id, name)
            stamp = (run.serial, series.version)
            if self._drawn.get(key) == stamp:
                continue
            item = self._items.get(key)
            if item is None:
                if not series.size:
                    self._drawn[key] = stamp
                    continue
                if self._new_items_left <= 0:
                    continue  # next refresh
                self._new_items_left -= 1
                item = curve_item(name, colour, label)
                self.plots[CURVES[name][0]].addItem(item)
                self._items[key] = item
            self._drawn[key] = stamp
            if series.size > SYMBOLS_UP_TO and item.opts["symbol"] is not None:
                item.setSymbol(None)
            item.setData(series.x, series.y)

    def points(self, job_id: str, name: str) -> int:
        item = self._items.get((job_id, name))
        return 0 if item is None or item.xData is None else len(item.xData)


class TrialPlot:
    """A study's trial values by trial number: completed trials, pruned ones (at their last
    reported value), failed ones (a dotted vertical line), and the best value so far."""

    def __init__(self, widget: pg.PlotWidget) -> None:
        self.plot = widget.getPlotItem()
        self._items: dict[str, list[Any]] = {}
        self._drawn: dict[str, int] = {}

    def clear(self) -> None:
        for items in self._items.values():
            for item in items:
                _remove(self.plot, item)
        self._items.clear()
        self._drawn.clear()

    def update(self, job_id: str, metrics: JobMetrics, colour: str, label: str | None) -> None:
        if self._drawn.get(job_id) == metrics.trials_version:
            return
        legend = self.plot.legend
        if legend is not None:  # away from where the best values go
            corner = 1 if metrics.direction == "maximize" else 0
            legend.anchor((1, corner), (1, corner), (-10, -10 if corner else 10))
        self._drawn[job_id] = metrics.trials_version
        for item in self._items.pop(job_id, []):
            _remove(self.plot, item)
        prefix = f"{label} · " if label else ""
        base = QColor(colour)
        items: list[Any] = []
        bx, by = metrics.best_so_far()
        if len(bx):
            items.append(
                pg.PlotDataItem(bx, by, pen=pg.mkPen(base, width=2), name=f"{prefix}best so far")
            )
        x, y = metrics.trial_points("complete")
        if len(x):
            items.append(
                pg.ScatterPlotItem(
                    x, y, symbol="o", size=9, brush=pg.mkBrush(base), pen=pg.mkPen("w"),
                    name=f"{prefix}complete",
                )
            )  # fmt: skip
        x, y = metrics.trial_points("pruned")
        if len(x):
            faded = QColor(base)
            faded.setAlpha(150)
            items.append(
                pg.ScatterPlotItem(
                    x, y, symbol="x", size=11, brush=pg.mkBrush(faded), pen=pg.mkPen(faded),
                    name=f"{prefix}pruned",
                )
            )  # fmt: skip
        for n, number in enumerate(metrics.failed_trials()):
            line = pg.InfiniteLine(
                number,
                angle=90,
                pen=pg.mkPen("#c62828", width=1.5, style=Qt.PenStyle.DotLine),
                label="failed" if n == 0 else None,
                labelOpts={"position": 0.9, "color": "#c62828"},
            )
            items.append(line)
        for item in items:
            self.plot.addItem(item)
        if metrics.failed_trials():
            legend = self.plot.legend
            if legend is not None and not any(
                lbl.text == f"{prefix}failed" for _s, lbl in legend.items
            ):
                marker = pg.PlotDataItem(
                    [], [], pen=pg.mkPen("#c62828", width=1.5, style=Qt.PenStyle.DotLine)
                )
                legend.addItem(marker, f"{prefix}failed")
                items.append(_LegendOnly(legend, marker))
        self._items[job_id] = items


class _LegendOnly:
    """A legend entry without a plotted item (removed with the job's items)."""

    def __init__(self, legend: pg.LegendItem, item: pg.PlotDataItem) -> None:
        self.legend, self.item = legend, item


def _remove(plot: pg.PlotItem, item: Any) -> None:
    if isinstance(item, _LegendOnly):
        item.legend.removeItem(item.item)
    else:
        plot.removeItem(item)
