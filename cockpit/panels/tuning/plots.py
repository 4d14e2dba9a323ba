"""The study's figures in pyqtgraph: optimisation history, parameter importance and
parallel coordinates. Each shows a sentence instead of an empty plot when the study has too
few trials for it."""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from cockpit.panels.tuning.model import format_value
from cockpit.plotting import IntegerAxis
from cockpit.richtext import escaped, plain
from cockpit.theme_colors import muted_colour, status_colour, style_plot, text_colour
from core.tuning.results import ParamAxis, StudyDetails

VALUE_COLOUR = "#1f77b4"
BEST_COLOUR = "#d62728"
HIGHLIGHT_COLOUR = "#ff8f00"  # the trial selected in the table, in every plot
PRUNED_COLOUR = "#b0895a"
_COLOURS = pg.colormap.get("viridis")
COLOUR_BANDS = 12
#: fewer complete trials than this: importance is shown with a warning
IMPORTANCE_TRUSTED_FROM = 10
SQUEEZE_FROM = 3.0  # other curves spanning this many times the complete ones' range: fit


def _arrow(direction: str) -> str:
    return "↑" if direction == "maximize" else "↓"


class PlotBox(QWidget):
    """A titled pyqtgraph plot with a caption, or a message where there is nothing to plot.
    Colours follow the application palette; ``sig_trial_clicked`` tells a click on a
    trial's mark."""

    sig_trial_clicked = Signal(int)

    def __init__(self, title: str, parent: QWidget | None = None, whole_x: bool = False) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        axes = {"bottom": IntegerAxis("bottom")} if whole_x else {}
        self.plot = pg.PlotWidget(axisItems=axes)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(150)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" on a metric
        style_plot(self.plot)
        self.selected: int | None = None
        self.message = plain(QLabel())
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(text); background: palette(base);")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.message)
        # the caption is our own markup (coloured legend marks); text from elsewhere is
        # escaped by _show_plot's callers
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.caption)

    @property
    def has_plot(self) -> bool:
        return self.stack.currentWidget() is self.plot

    def show_message(self, text: str) -> None:
        self.plot.clear()
        self.message.setText(text)
        self.caption.clear()
        self.stack.setCurrentWidget(self.message)

    def _show_plot(self, caption: str = "") -> None:
        self.caption.setText(caption)
        self.stack.setCurrentWidget(self.plot)

    def highlight(self, number: int | None) -> None:
        """Mark trial ``number`` (None: no trial) the way this plot can."""
        self.selected = number


def _selected_note(number: int | None) -> str:
    if number is None:
        return ""
    return f" &nbsp;<span style='color:{HIGHLIGHT_COLOUR}'>━</span> selected trial {number}"


class HistoryPlot(PlotBox):
    """Each complete trial's value by trial number, and the best value so far; a click on
    a trial's point selects it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Optimisation history", parent, whole_x=True)
        self.plot.setLabel("bottom", "trial")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.points: pg.ScatterPlotItem | None = None
        self.best_line: pg.PlotDataItem | None = None
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(HIGHLIGHT_COLOUR, width=2))
        self.ring = pg.ScatterPlotItem(
            size=17, brush=None, pen=pg.mkPen(HIGHLIGHT_COLOUR, width=2.5)
        )
        self._values: dict[int, float] = {}

    def highlight(self, number: int | None) -> None:
        self.selected = number
        for item in (self.marker, self.ring):
            if item.scene() is not None:
                self.plot.removeItem(item)
        if number is None or self.points is None:
            return
        self.marker.setValue(number)
        self.plot.addItem(self.marker, ignoreBounds=True)
        if number in self._values:
            self.ring.setData([number], [self._values[number]])
            self.plot.addItem(self.ring)

    def _clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if len(points):
            self.sig_trial_clicked.emit(int(points[0].data()))

    def show_details(self, details: StudyDetails | None) -> None:
        history = details.history if details else None
        if history is None or not history.numbers:
            self.points = self.best_line = None
            self._values = {}
            self.show_message("No complete trial yet: the history starts with the first one.")
            return
        summary = details.summary
        self.plot.clear()
        self.plot.setLabel("left", f"{summary.metric or 'objective'} {_arrow(summary.direction)}")
        self.best_line = self.plot.plot(
            history.numbers,
            history.best_so_far,
            pen=pg.mkPen(BEST_COLOUR, width=2),
        )
        self.points = pg.ScatterPlotItem(
            history.numbers,
            history.values,
            data=history.numbers,
            size=9,
            brush=pg.mkBrush(VALUE_COLOUR),
            pen=pg.mkPen(self.plot.backgroundBrush().color()),
            hoverable=True,
            tip="trial {data}: {y:.4g}".format,
        )
        self.points.sigClicked.connect(self._clicked)
        self.plot.addItem(self.points)
        self._values = dict(zip(history.numbers, history.values, strict=True))
        self.plot.enableAutoRange()
        self.highlight(self.selected)
        self._show_plot(
            f"<span style='color:{VALUE_COLOUR}'>●</span> complete trial &nbsp;"
            f"<span style='color:{BEST_COLOUR}'>━</span> best so far: "
            f"{format_value(summary.best_value)} (trial {summary.best_trial})"
            f"{_selected_note(self.selected)} · click a point to select its trial"
        )


class LearningCurvesPlot(PlotBox):
    """Every trial's reported values by epoch (Optuna's intermediate values): where each
    trial went, and where the pruner stopped the unpromising ones. The best trial in red,
    the trial selected in the table thick and on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Learning curves of the trials", parent, whole_x=True)
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.curves: dict[int, tuple[list[float], list[float]]] = {}  # trial -> its curve
        self.items: list[pg.PlotDataItem] = []
        self.selected_item: pg.PlotDataItem | None = None
        self._caption = ""

    def show_details(self, details: StudyDetails | None) -> None:
        self.curves, self.items, self.selected_item = {}, [], None
        trials = [t for t in details.trials if t.intermediate] if details else []
        if details is None or not trials:
            self.show_message(
                "No trial has reported a value yet: each trial reports its "
                f"{details.summary.metric if details else 'metric'} after every epoch."
            )
            return
        self.plot.clear()
        summary = details.summary
        self.plot.setLabel("left", f"{summary.metric or 'objective'} {_arrow(summary.direction)}")
        groups: dict[str, tuple[list[float], list[float]]] = {}
        for trial in trials:
            xs = [float(step + 1) for step, _v in trial.intermediate]
            ys = [value for _s, value in trial.intermediate]
            self.curves[trial.number] = (xs, ys)
            if trial.number == summary.best_trial:
                continue
            group = "pruned" if trial.state == "pruned" else "other"
            gx, gy = groups.setdefault(group, ([], []))
            gx.extend([*xs, math.nan])
            gy.extend([*ys, math.nan])
        for group, (xs, ys) in sorted(groups.items()):
            colour = QColor(PRUNED_COLOUR if group == "pruned" else VALUE_COLOUR)
            colour.setAlpha(170)
            self.items.append(
                self.plot.plot(xs, ys, pen=pg.mkPen(colour, width=1.5), connect="finite")
            )
        if summary.best_trial in self.curves:
            xs, ys = self.curves[summary.best_trial]
            self.items.append(
                self.plot.plot(xs, ys, pen=pg.mkPen(BEST_COLOUR, width=2.5), symbol="o",
                               symbolSize=5, symbolBrush=BEST_COLOUR, symbolPen=None)
            )  # fmt: skip
        pruned = sum(1 for t in trials if t.state == "pruned")
        fitted = self._fit_range(trials)
        self._caption = (
            f"{len(trials)} trial(s) reported · <span style='color:{VALUE_COLOUR}'>━</span> "
            f"trial <span style='color:{PRUNED_COLOUR}'>━</span> pruned ({pruned}) "
            f"<span style='color:{BEST_COLOUR}'>━</span> best trial {summary.best_trial}"
            + (" · y fitted to the complete trials (drag or scroll to see all)" if fitted else "")
        )
        self.highlight(self.selected)

    def _fit_range(self, trials: list[Any]) -> bool:
        """The y range of the complete trials' curves when the others (pruned ones that
        diverged) would squeeze them into a flat line; True when that cut something."""
        every = [v for t in trials for _s, v in t.intermediate]
        complete = [v for t in trials if t.state == "complete" for _s, v in t.intermediate]
        self.plot.enableAutoRange()
        if not complete:
            return False
        low, high = min(complete), max(complete)
        span = high - low
        if max(every) - min(every) <= SQUEEZE_FROM * max(span, 1e-12):
            return False
        pad = span * 0.1 if span > 0 else max(abs(high) * 0.05, 1e-3)
        self.plot.setYRange(low - pad, high + pad, padding=0)
        return True

    def highlight(self, number: int | None) -> None:
        self.selected = number
        if self.selected_item is not None:
            self.plot.removeItem(self.selected_item)
            self.selected_item = None
        if number in self.curves:
            xs, ys = self.curves[number]
            self.selected_item = self.plot.plot(
                xs, ys, pen=pg.mkPen(HIGHLIGHT_COLOUR, width=3.5), symbol="o", symbolSize=7,
                symbolBrush=HIGHLIGHT_COLOUR, symbolPen=None,
            )  # fmt: skip
            self.selected_item.setZValue(10)
        if self.curves:
            self._show_plot(self._caption + _selected_note(number))


class ImportancePlot(PlotBox):
    """Horizontal bars: each parameter's share of the objective's variation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameter importance", parent)
        self.warning = ""
        self.plot.setLabel("bottom", "importance")
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars: pg.BarGraphItem | None = None
        self.names: list[str] = []

    def show_details(self, details: StudyDetails | None) -> None:
        self.warning = ""
        self.title.setText("<b>Parameter importance</b>")
        if details is None or not details.importance:
            self.bars, self.names = None, []
            note = details.importance_note if details else "No study selected."
            self.show_message(note[:1].upper() + note[1:] + ".")
            return
        complete = len(details.complete)
        self.title.setText(f"<b>Parameter importance</b> ({complete} complete trials)")
        if complete < IMPORTANCE_TRUSTED_FROM:
            self.warning = (
                f"only {complete} complete trials: a rough guess that may change a lot; "
                f"trust it from about {IMPORTANCE_TRUSTED_FROM}"
            )
        self.plot.clear()
        # most important on top
        self.names = list(reversed(details.importance))
        widths = [details.importance[name] for name in self.names]
        rows = list(range(len(self.names)))
        self.bars = pg.BarGraphItem(
            x0=0, y=rows, height=0.6, width=widths, brush=pg.mkBrush(VALUE_COLOUR), pen=None
        )
        self.plot.addItem(self.bars)
        for row, width in zip(rows, widths, strict=True):
            label = pg.TextItem(f"{width:.2f}", color=text_colour(), anchor=(0, 0.5))
            label.setPos(width, row)
            self.plot.addItem(label)
        left = self.plot.getAxis("left")
        left.setTicks([list(zip(rows, self.names, strict=True))])
        metrics = QFontMetrics(left.style.get("tickFont") or self.plot.font())
        left.setWidth(max(metrics.horizontalAdvance(n) for n in self.names) + 14)
        self.plot.setXRange(0, max(widths) * 1.2, padding=0)
        self.plot.setYRange(-0.6, len(rows) - 0.4, padding=0)
        caption = escaped(details.importance_note)
        if self.warning:
            colour = status_colour("warning")
            caption += f"<br><span style='color:{colour}'>⚠ {escaped(self.warning)}</span>"
        self._show_plot(caption)


class ParallelCoordinatesPlot(PlotBox):
    """One line per complete trial across the objective and every parameter, each axis
    scaled to its range (log parameters in log space, choices by their index), coloured by
    the objective value; the best trial drawn thick and on top. Lines of one colour band
    are one plot item, so a study of thousands of trials still draws at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parallel coordinates", parent)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(x=False, y=False)
        self.paths: dict[int, tuple[list[float], list[float]]] = {}  # trial -> its line
        self.items: list[pg.PlotDataItem] = []  # the drawn lines, grouped by colour band
        self.selected_item: pg.PlotDataItem | None = None
        self._caption = ""

    def show_details(self, details: StudyDetails | None) -> None:
        self.paths, self.items, self.selected_item = {}, [], None
        complete = details.complete if details else []
        if details is None or not complete or not details.axes:
            self.show_message(
                "No complete trial yet: each complete trial becomes one line across its parameters."
            )
            return
        self.plot.clear()
        summary = details.summary
        values = [t.value for t in complete]
        objective = ParamAxis(
            f"{summary.metric or 'objective'} {_arrow(summary.direction)}",
            "float",
            min(values),
            max(values),
        )
        axes = [objective, *details.axes]
        for column, axis in enumerate(axes):
            pen = pg.mkPen(muted_colour(), width=1)
            self.plot.addItem(pg.InfiniteLine(pos=column, angle=90, pen=pen))
            self._label_axis(column, axis)
        bands: dict[int, tuple[list[float], list[float]]] = {}
        for trial in complete:
            points = [(0, objective.position(trial.value))] + [
                (column, axis.position(trial.params[axis.name]))
                for column, axis in enumerate(details.axes, start=1)
                if axis.name in trial.params
            ]
            path = [float(x) for x, _ in points], [y for _, y in points]
            self.paths[trial.number] = path
            if trial.number == summary.best_trial:
                continue
            band = min(int(points[0][1] * COLOUR_BANDS), COLOUR_BANDS - 1)
            xs, ys = bands.setdefault(band, ([], []))
            xs.extend([*path[0], math.nan])  # a gap between two trials' lines
            ys.extend([*path[1], math.nan])
        # better values drawn last, on top
        ordered = sorted(bands.items(), reverse=summary.direction == "minimize")
        for band, (xs, ys) in ordered:
            colour = _COLOURS.map((band + 0.5) / COLOUR_BANDS, mode="qcolor")
            self.items.append(
                self.plot.plot(xs, ys, pen=pg.mkPen(colour, width=1.5), connect="finite")
            )
        if summary.best_trial in self.paths:
            xs, ys = self.paths[summary.best_trial]
            self.items.append(self.plot.plot(xs, ys, pen=pg.mkPen(BEST_COLOUR, width=3)))
        # room for the first axis' name and the last axis' choices beside their lines
        self.plot.setXRange(-0.5, len(axes) - 0.45, padding=0)
        self.plot.setYRange(-0.08, 1.18, padding=0)
        low, high = _COLOURS.map(0.0, mode="qcolor").name(), _COLOURS.map(1.0, mode="qcolor").name()
        self._caption = (
            f"{len(complete)} complete trial(s); colour: value "
            f"<span style='color:{low}'>■</span> low → <span style='color:{high}'>■</span> high, "
            f"<span style='color:{BEST_COLOUR}'>■</span> best trial {summary.best_trial}"
        )
        self.highlight(self.selected)

    def highlight(self, number: int | None) -> None:
        self.selected = number
        if self.selected_item is not None:
            self.plot.removeItem(self.selected_item)
            self.selected_item = None
        if number in self.paths:
            xs, ys = self.paths[number]
            pen = pg.mkPen(HIGHLIGHT_COLOUR, width=3.5)
            self.selected_item = self.plot.plot(xs, ys, pen=pen)
            self.selected_item.setZValue(10)
        if self.paths:
            self._show_plot(self._caption + _selected_note(number))

    def _text(
        self, text: str, x: float, y: float, anchor: tuple[float, float], bold: bool = False
    ) -> None:
        if bold:
            html = f"<b style='color:{text_colour()}'>{escape(text)}</b>"
            item = pg.TextItem(html=html, anchor=anchor)
        else:
            item = pg.TextItem(text, color=text_colour(), anchor=anchor)
        item.setPos(x, y)
        self.plot.addItem(item)

    def _label_axis(self, column: int, axis: ParamAxis) -> None:
        name = f"{axis.name} (log)" if axis.log else axis.name
        self._text(name, column, 1.06, (0.5, 1), bold=column == 0)
        if axis.kind == "categorical":
            for choice in axis.choices:
                self._text(str(choice), column, axis.position(choice), (-0.05, 0.5))
            return
        self._text(format_value(axis.high), column, 1.0, (-0.05, 0.5))
        self._text(format_value(axis.low), column, 0.0, (-0.05, 0.5))
