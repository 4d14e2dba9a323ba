"""Runs side by side, full size in their own window: overlaid loss and accuracy curves
(pyqtgraph, at least 250 px tall), the confusion matrices next to each other as count
heatmaps, and the parameters that differ (all of them on request). Colours follow the
window's palette (light or dark)."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cockpit.richtext import escaped, plain_rich
from core.history import Comparison, Confusion, format_metric

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
DIFF_BACKGROUND = QColor("#fff3c4")
DIFF_FOREGROUND = QColor("#000000")  # readable on the highlight in a dark palette too
PLOT_MIN_HEIGHT = 280


def run_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


class ConfusionTable(QTableWidget):
    """A confusion matrix as a table of counts, shaded by count (rows true, columns
    predicted)."""

    def __init__(self, confusion: Confusion, parent: QWidget | None = None) -> None:
        names = list(confusion.classes)
        super().__init__(len(names), len(names), parent)
        self.setHorizontalHeaderLabels(names)
        self.setVerticalHeaderLabels(names)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        largest = max((max(row) for row in confusion.matrix), default=0) or 1
        for row, counts in enumerate(confusion.matrix):
            for column, count in enumerate(counts):
                cell = QTableWidgetItem(str(count))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / largest
                diagonal = row == column
                base = QColor(46, 125, 50) if diagonal else QColor(198, 40, 40)
                shade = QColor(
                    round(255 - (255 - base.red()) * share),
                    round(255 - (255 - base.green()) * share),
                    round(255 - (255 - base.blue()) * share),
                )
                cell.setBackground(QBrush(shade))
                # the shades run from white: dark text on them, whatever the palette
                cell.setForeground(QBrush(QColor("white" if share > 0.6 else "black")))
                self.setItem(row, column, cell)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("rows: true class, columns: predicted class")
        self.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)


class CompareView(QWidget):
    """Shows a core ``Comparison``; empty until ``show_comparison``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.hint = QLabel("select two or more runs in the table and press Compare")
        self.hint.setWordWrap(True)

        self.curves = pg.GraphicsLayoutWidget()
        self.curves.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.loss_plot = self.curves.addPlot(row=0, col=0, title="loss per epoch")
        self.acc_plot = self.curves.addPlot(row=0, col=1, title="accuracy per epoch")
        for plot, label in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", label)
            plot.getAxis("left").enableAutoSIPrefix(False)
        self._apply_palette()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.curve_items: list[Any] = []
        curves_box = QWidget()
        curves_layout = QVBoxLayout(curves_box)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.legend)
        curves_layout.addWidget(self.curves, 1)

        self.only_differences = QCheckBox("only parameters that differ (untick: show all)")
        self.only_differences.setToolTip(
            "hide the parameters that are the same in every compared run"
        )
        self.only_differences.setChecked(True)
        self.only_differences.toggled.connect(self._fill_params)
        self.params = QTableWidget(0, 0)
        self.params.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.params.verticalHeader().setDefaultSectionSize(22)
        params_box = QWidget()
        params_layout = QVBoxLayout(params_box)
        params_layout.setContentsMargins(0, 0, 0, 0)
        params_layout.addWidget(QLabel("<b>Parameters</b> (rows: parameters, columns: runs)"))
        params_layout.addWidget(self.only_differences)
        params_layout.addWidget(self.params, 1)

        self.matrices = QWidget()
        self.matrices_layout = QHBoxLayout(self.matrices)
        self.matrices_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidget(self.matrices)
        scroll.setWidgetResizable(True)
        matrices_box = QWidget()
        matrices_layout = QVBoxLayout(matrices_box)
        matrices_layout.setContentsMargins(0, 0, 0, 0)
        matrices_layout.addWidget(
            QLabel("<b>Confusion matrices</b> (rows true, columns predicted)")
        )
        matrices_layout.addWidget(scroll, 1)

        # the curves beside the parameter diff; the matrices below, the window's width
        top = QSplitter()
        top.addWidget(curves_box)
        top.addWidget(params_box)
        top.setStretchFactor(0, 1)
        top.setSizes([900, 380])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(matrices_box)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([340, 420])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(splitter, 1)

    # --- filling ---------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        """Plot background, axes and titles in the palette's colours (light or dark)."""
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.curves.setBackground(base)
        for plot in (self.loss_plot, self.acc_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(text))
                axis.setTextPen(pg.mkPen(text))
        self.loss_plot.setTitle("loss per epoch", color=text.name())
        self.acc_plot.setTitle("accuracy per epoch", color=text.name())

    def changeEvent(self, event: Any) -> None:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def show_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        sources = {run.curve_source for run in comparison.runs} - {"none"}
        self.hint.setText(
            f"Comparing {len(comparison.runs)} runs"
            + (f" (curves from the {' and '.join(sorted(sources))})" if sources else "")
        )
        self.legend.setText(
            "&nbsp;&nbsp;".join(
                f"<span style='color:{run_colour(i)}'>&#9632; {escaped(run.label)}</span>"
                for i, run in enumerate(comparison.runs)
            )
            + "&nbsp;&nbsp;&nbsp;— solid: valid, dashed: train"
        )
        self._fill_curves()
        self._fill_params()
        self._fill_matrices()

    def _fill_curves(self) -> None:
        for plot in (self.loss_plot, self.acc_plot):
            plot.clear()
        self.curve_items = []
        assert self.comparison is not None
        last_epoch = 1
        for index, run in enumerate(self.comparison.runs):
            colour = run_colour(index)
            for name, points in sorted(run.curves.items()):
                split, metric = name.split("_", 1)
                plot = self.loss_plot if metric == "loss" else self.acc_plot
                scale = 1.0  # accuracy as a fraction, as the table and the CLI show it
                style = Qt.PenStyle.SolidLine if split == "valid" else Qt.PenStyle.DashLine
                epochs = [e for e, _v in points]
                last_epoch = max([last_epoch, *epochs])
                item = plot.plot(
                    epochs,
                    [v * scale for _e, v in points],
                    pen=pg.mkPen(colour, width=2, style=style),
                    symbol="o" if split == "valid" else None,
                    symbolSize=6,
                    symbolBrush=colour,
                    symbolPen=colour,
                )
                item.setToolTip(plain_rich(f"{run.label} {split} {metric}"))
                self.curve_items.append((run.label, name, item))
        # whole epochs on the axis while there are few of them
        spacing = 1 if last_epoch <= 15 else None
        for plot in (self.loss_plot, self.acc_plot):
            axis = plot.getAxis("bottom")
            if spacing:
                axis.setTickSpacing(major=spacing, minor=spacing)
            else:
                axis.setTickSpacing()

    def curve_count(self, name: str = "valid_loss") -> int:
        """How many runs have a curve ``name`` drawn (for tests and status)."""
        return sum(1 for _label, curve, _item in self.curve_items if curve == name)

    def _fill_params(self) -> None:
        if self.comparison is None:
            return
        runs = self.comparison.runs
        rows = (
            self.comparison.differing_rows
            if self.only_differences.isChecked()
            else self.comparison.param_rows
        )
        self.params.clear()
        self.params.setColumnCount(len(runs))
        self.params.setRowCount(len(rows))
        self.params.setHorizontalHeaderLabels([run.label for run in runs])
        self.params.setVerticalHeaderLabels([row.key for row in rows])
        for column in range(len(runs)):
            header = self.params.horizontalHeaderItem(column)
            header.setForeground(QBrush(QColor(run_colour(column))))
        for row_index, row in enumerate(rows):
            for column, value in enumerate(row.values):
                cell = QTableWidgetItem(value)
                if row.differs:
                    cell.setBackground(QBrush(DIFF_BACKGROUND))
                    cell.setForeground(QBrush(DIFF_FOREGROUND))
                self.params.setItem(row_index, column, cell)
        for column, run in enumerate(runs):
            self.params.horizontalHeaderItem(column).setToolTip(plain_rich(run.label))
        # the runs share the width (long names elided, whole in the tooltip and legend):
        # never a sideways scroll
        header = self.params.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.params.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def highlighted_keys(self) -> list[str]:
        """The parameter rows shown highlighted (they differ between the runs)."""
        keys = []
        for row in range(self.params.rowCount()):
            cell = self.params.item(row, 0)
            if cell is not None and cell.background().color() == DIFF_BACKGROUND:
                keys.append(self.params.verticalHeaderItem(row).text())
        return keys

    def _fill_matrices(self) -> None:
        while self.matrices_layout.count():
            item = self.matrices_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        assert self.comparison is not None
        self.matrix_tables: list[ConfusionTable] = []
        for index, run in enumerate(self.comparison.runs):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 8, 0)
            colour = run_colour(index)
            confusion = run.confusion
            if confusion is None:
                title = QLabel(
                    f"<b style='color:{colour}'>{escaped(run.label)}</b><br>not recorded "
                    "(trained before "
                    "confusion matrices were saved: use Plot)"
                )
                title.setWordWrap(True)
                column.addWidget(title)
                column.addStretch(1)
            else:
                column.addWidget(
                    QLabel(
                        f"<b style='color:{colour}'>{escaped(run.label)}</b> — "
                        f"{confusion.split} split, "
                        f"accuracy {format_metric(confusion.accuracy)}"
                    )
                )
                table = ConfusionTable(confusion)
                self.matrix_tables.append(table)
                column.addWidget(table)
                column.addStretch(1)
            self.matrices_layout.addWidget(box)
        self.matrices_layout.addStretch(1)


class CompareWindow(QWidget):
    """The comparison full size, in a window of its own (Escape closes it); the History
    panel fills it and brings it to the front."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare runs")
        self.view = CompareView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.resize(1280, 800)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)

    def present(self) -> None:
        if self.view.comparison is not None:
            count = len(self.view.comparison.runs)
            self.setWindowTitle(f"Compare {count} runs")
        self.show()
        self.raise_()
        self.activateWindow()
