"""pyqtgraph pieces shared by the panels' plots."""

from __future__ import annotations

import pyqtgraph as pg


class IntegerAxis(pg.AxisItem):
    """An axis of whole numbers (epochs, steps, trial numbers): ticks only at integers,
    written without decimals, however far it is zoomed in."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        levels = super().tickSpacing(minVal, maxVal, size)
        whole = []
        for spacing, offset in levels:
            spacing = float(max(1, round(spacing)))
            if all(spacing != s for s, _o in whole):
                whole.append((spacing, float(round(offset))))
        return whole or [(1.0, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{round(v * scale):d}" for v in values]
