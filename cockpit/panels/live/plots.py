"""The live plots: loss and accuracy curves of one or several jobs, and a study's trials.

Curves are set from whole numpy arrays, only when their series changed, and drawn with
pyqtgraph's peak downsampling and clipping to the visible range, so a curve of 100,000
points redraws as fast as one of a few thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from cockpit.panels.live.metrics import CURVES, JobMetrics, RunCurves
from cockpit.plotting import IntegerAxis
from cockpit.richtext import escaped
from cockpit.theme_colors import is_dark, muted_colour, status_colour, style_plot

#: one colour per job when several are overlaid (Okabe-Ito, readable by colour-blind users)
JOB_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C8C8C")
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
AXES = {"epochs": "epoch", "steps": "step"}  # x-axis choice -> axis label


def make_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A PlotWidget set up for long, growing curves: whole-number x ticks, a light grid,
    colours from the application palette; no legend inside (the panel shows it beside)."""
    widget = pg.PlotWidget(axisItems={"bottom": IntegerAxis("bottom")})
    item = widget.getPlotItem()
    item.setTitle(title, size="11pt")
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.enableAutoSIPrefix(False)
        # grid lines at the labelled ticks only: the minor ones cost 3-4x the frame rate
        # of a 100,000-point curve while panning (benchmarks/bench_live_plot.py)
        axis.setStyle(maxTickLevel=0)
    style_plot(widget)
    widget.setMinimumHeight(160)
    return widget


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    text: str
    mark: str = "line"  # square | line | dashed | dot | cross | dotted


_MARKS = {"square": "■", "line": "━━", "dashed": "╍╍", "dot": "●", "cross": "✕", "dotted": "┈┈"}


def legend_html(entries: list[LegendEntry]) -> str:
    """A one-line legend for a label beside the plots (texts are escaped: job names)."""
    return " &nbsp; ".join(
        f"<span style='color:{e.colour}'>{_MARKS[e.mark]}</span>&nbsp;{escaped(e.text)}"
        for e in entries
    )


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
    """The loss and accuracy plots of the followed jobs (each job: its current run), on
    one x axis: epochs (the default) or steps."""

    def __init__(self, loss: pg.PlotWidget, acc: pg.PlotWidget, axis: str = "epochs") -> None:
        self.plots = {"loss": loss.getPlotItem(), "acc": acc.getPlotItem()}
        self.axis = axis
        self._items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._entries: dict[tuple[str, str], LegendEntry] = {}
        self._drawn: dict[tuple[str, str], tuple] = {}  # (run serial, version, epochs, axis)
        self._new_items_left = NEW_ITEMS_PER_REFRESH
        self.set_axis(axis)

    def set_axis(self, axis: str) -> None:
        """Epochs or steps on the x axis of both plots; every curve is redrawn."""
        self.axis = axis
        self._drawn.clear()
        for plot in self.plots.values():
            plot.setLabel("bottom", AXES[axis])
            plot.enableAutoRange()

    def clear(self) -> None:
        for (_job, name), item in self._items.items():
            self.plots[CURVES[name][0]].removeItem(item)
        self._items.clear()
        self._entries.clear()
        self._drawn.clear()

    def new_items_allowed(self, count: int) -> None:
        """Curves created per refresh: a new curve costs a relayout, so 4 jobs appearing
        at once get their 20 curves over a few refreshes instead of in one long stall."""
        self._new_items_left = count

    def update(self, job_id: str, run: RunCurves, colour: str, label: str | None) -> None:
        """Draw what changed in ``run``; ``label`` names the job in the legend when
        several jobs are overlaid (None: one job, one colour per curve)."""
        ends = (len(run.epoch_ends), max(run.epoch_ends.values(), default=0))
        for name, series in run.curves.items():
            key = (job_id, name)
            stamp = (run.serial, series.version, ends, self.axis)
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
                self._entries[key] = _entry(name, colour, label)
            self._drawn[key] = stamp
            if series.size > SYMBOLS_UP_TO and item.opts["symbol"] is not None:
                item.setSymbol(None)
            item.setData(run.x_values(name, self.axis), series.y)

    def points(self, job_id: str, name: str) -> int:
        item = self._items.get((job_id, name))
        return 0 if item is None or item.xData is None else len(item.xData)

    def x_data(self, job_id: str, name: str) -> list[float]:
        item = self._items.get((job_id, name))
        return [] if item is None or item.xData is None else [float(x) for x in item.xData]

    def legend_entries(self) -> list[LegendEntry]:
        """One job: one entry per curve (loss and accuracy curves of one name merged).
        Several jobs: one colour swatch per job, then what the line styles mean."""
        seen: dict[str, LegendEntry] = {}
        styles: dict[str, LegendEntry] = {}
        for (_job, name), entry in self._entries.items():
            if entry.mark == "square":
                title = CURVES[name][1]
                mark = {"train_step": "dotted", "train_loss": "dashed", "train_acc": "dashed"}
                styles.setdefault(title, LegendEntry(muted_colour(), title, mark.get(name, "line")))
            seen.setdefault(entry.text, entry)
        return list(seen.values()) + sorted(styles.values(), key=lambda e: e.mark != "line")


def _entry(name: str, colour: str, label: str | None) -> LegendEntry:
    if label is None:
        mark = "line" if name != "train_step" else "dotted"
        return LegendEntry(CURVE_COLOURS[name], CURVES[name][1], mark)
    return LegendEntry(colour, label, "square")


class TrialPlot:
    """A study's trial values by trial number: completed trials, pruned ones (at their last
    reported value), failed ones (a dotted vertical line), and the best value so far."""

    def __init__(self, widget: pg.PlotWidget) -> None:
        self.plot = widget.getPlotItem()
        self._items: dict[str, list[Any]] = {}
        self._entries: dict[str, list[LegendEntry]] = {}
        self._drawn: dict[str, int] = {}

    def clear(self) -> None:
        for items in self._items.values():
            for item in items:
                self.plot.removeItem(item)
        self._items.clear()
        self._entries.clear()
        self._drawn.clear()

    def legend_entries(self) -> list[LegendEntry]:
        return [entry for entries in self._entries.values() for entry in entries]

    def update(self, job_id: str, metrics: JobMetrics, colour: str, label: str | None) -> None:
        if self._drawn.get(job_id) == metrics.trials_version:
            return
        self._drawn[job_id] = metrics.trials_version
        for item in self._items.pop(job_id, []):
            self.plot.removeItem(item)
        prefix = f"{label} · " if label else ""
        base = QColor(colour)
        items: list[Any] = []
        entries: list[LegendEntry] = []
        bx, by = metrics.best_so_far()
        if len(bx):
            items.append(pg.PlotDataItem(bx, by, pen=pg.mkPen(base, width=2)))
            entries.append(LegendEntry(colour, f"{prefix}best so far"))
        x, y = metrics.trial_points("complete")
        if len(x):
            items.append(
                pg.ScatterPlotItem(
                    x, y, symbol="o", size=9, brush=pg.mkBrush(base), pen=pg.mkPen("w"),
                )
            )  # fmt: skip
            entries.append(LegendEntry(colour, f"{prefix}complete", "dot"))
        x, y = metrics.trial_points("pruned")
        if len(x):
            faded = QColor(base.lighter(150) if is_dark() else base)  # dark blue on dark: lost
            faded.setAlpha(170)
            items.append(
                pg.ScatterPlotItem(
                    x, y, symbol="x", size=11, brush=pg.mkBrush(faded), pen=pg.mkPen(faded),
                )
            )  # fmt: skip
            entries.append(LegendEntry(colour, f"{prefix}pruned", "cross"))
        failed_colour = status_colour("failed")
        for n, number in enumerate(metrics.failed_trials()):
            line = pg.InfiniteLine(
                number,
                angle=90,
                pen=pg.mkPen(failed_colour, width=1.5, style=Qt.PenStyle.DotLine),
                label="failed" if n == 0 else None,
                labelOpts={"position": 0.9, "color": failed_colour},
            )
            items.append(line)
        if metrics.failed_trials():
            entries.append(LegendEntry(failed_colour, f"{prefix}failed", "dotted"))
        for item in items:
            self.plot.addItem(item)
        self._items[job_id] = items
        self._entries[job_id] = entries
