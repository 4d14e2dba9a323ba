"""The study's figures in pyqtgraph: optimisation history, parameter importance and
parallel coordinates. Each shows a sentence instead of an empty plot when the study has too
few trials for it."""

from __future__ import annotations

import math
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from cockpit.panels.tuning.model import format_value
from cockpit.richtext import escaped, plain
from core.tuning.results import ParamAxis, StudyDetails

VALUE_COLOUR = "#1f77b4"
BEST_COLOUR = "#d62728"
AXIS_PEN = pg.mkPen("#9e9e9e", width=1)
TEXT_COLOUR = "#424242"
_COLOURS = pg.colormap.get("viridis")
COLOUR_BANDS = 12


def _arrow(direction: str) -> str:
    return "↑" if direction == "maximize" else "↓"


class PlotBox(QWidget):
    """A titled pyqtgraph plot with a caption, or a message where there is nothing to plot."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(150)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" on a metric
        self.message = plain(QLabel())
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {TEXT_COLOUR}; background: white;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.message)
        # the caption is our own markup (coloured legend marks); text from elsewhere is
        # escaped by _show_plot's callers
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setStyleSheet(f"color: {TEXT_COLOUR};")
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


class HistoryPlot(PlotBox):
    """Each complete trial's value by trial number, and the best value so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Optimisation history", parent)
        self.plot.setLabel("bottom", "trial")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.points: pg.ScatterPlotItem | None = None
        self.best_line: pg.PlotDataItem | None = None

    def show_details(self, details: StudyDetails | None) -> None:
        history = details.history if details else None
        if history is None or not history.numbers:
            self.points = self.best_line = None
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
            size=8,
            brush=pg.mkBrush(VALUE_COLOUR),
            pen=pg.mkPen("w"),
        )
        self.plot.addItem(self.points)
        self.plot.enableAutoRange()
        self._show_plot(
            f"<span style='color:{VALUE_COLOUR}'>●</span> complete trial &nbsp;"
            f"<span style='color:{BEST_COLOUR}'>━</span> best so far: "
            f"{format_value(summary.best_value)} (trial {summary.best_trial})"
        )


class ImportancePlot(PlotBox):
    """Horizontal bars: each parameter's share of the objective's variation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameter importance", parent)
        self.plot.setLabel("bottom", "importance")
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars: pg.BarGraphItem | None = None
        self.names: list[str] = []

    def show_details(self, details: StudyDetails | None) -> None:
        if details is None or not details.importance:
            self.bars, self.names = None, []
            note = details.importance_note if details else "No study selected."
            self.show_message(note[:1].upper() + note[1:] + ".")
            return
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
            label = pg.TextItem(f"{width:.2f}", color=TEXT_COLOUR, anchor=(0, 0.5))
            label.setPos(width, row)
            self.plot.addItem(label)
        left = self.plot.getAxis("left")
        left.setTicks([list(zip(rows, self.names, strict=True))])
        metrics = QFontMetrics(left.style.get("tickFont") or self.plot.font())
        left.setWidth(max(metrics.horizontalAdvance(n) for n in self.names) + 14)
        self.plot.setXRange(0, max(widths) * 1.2, padding=0)
        self.plot.setYRange(-0.6, len(rows) - 0.4, padding=0)
        self._show_plot(escaped(details.importance_note))


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

    def show_details(self, details: StudyDetails | None) -> None:
        self.paths, self.items = {}, []
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
            self.plot.addItem(pg.InfiniteLine(pos=column, angle=90, pen=AXIS_PEN))
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
        self.plot.setXRange(-0.35, len(axes) - 0.65, padding=0)
        self.plot.setYRange(-0.08, 1.18, padding=0)
        low, high = _COLOURS.map(0.0, mode="qcolor").name(), _COLOURS.map(1.0, mode="qcolor").name()
        self._show_plot(
            f"{len(complete)} complete trial(s); colour: value "
            f"<span style='color:{low}'>■</span> low → <span style='color:{high}'>■</span> high, "
            f"<span style='color:{BEST_COLOUR}'>■</span> best trial {summary.best_trial}"
        )

    def _text(
        self, text: str, x: float, y: float, anchor: tuple[float, float], bold: bool = False
    ) -> None:
        if bold:
            html = f"<b style='color:{TEXT_COLOUR}'>{escape(text)}</b>"
            item = pg.TextItem(html=html, anchor=anchor)
        else:
            item = pg.TextItem(text, color=TEXT_COLOUR, anchor=anchor)
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
