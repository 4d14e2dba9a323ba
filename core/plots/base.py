"""``BasePlot``: one figure of one layer. Definitions list theirs in ``PLOTS`` in their
``plots.py`` (dataset, model) or ``plot.py`` (adapter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from core.training.builder import ExperimentContext


@dataclass
class PlotContext:
    """What a plot may use: the restored experiment and, for model plots, the trained
    weights already loaded into ``experiment.module``."""

    experiment: ExperimentContext
    output_dir: Path
    run_id: str | None

    def metric_history(self, key: str) -> list[tuple[int, float]]:
        """(epoch, value) pairs of a metric from the run's MLflow record."""
        if self.run_id is None:
            return []
        from core.training.tracking import tracking_client

        client = tracking_client(self.experiment.workspace)
        return [(m.step, m.value) for m in client.get_metric_history(self.run_id, key)]


class BasePlot:
    name: ClassVar[str] = "plot"
    title: ClassVar[str] = ""
    needs_weights: ClassVar[bool] = False

    def draw(self, context: PlotContext, figure: Any) -> None:
        """Draw on a matplotlib ``figure``."""
        raise NotImplementedError

    def figure_size(self, context: PlotContext) -> tuple[float, float]:
        return (8.0, 6.0)

    def render(self, context: PlotContext, layer: str) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        figure = Figure(figsize=self.figure_size(context), dpi=100, layout="constrained")
        self.draw(context, figure)
        if self.title:
            figure.suptitle(self.title)
        path = context.output_dir / f"{layer}_{self.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.png")
        figure.savefig(temporary)
        temporary.replace(path)
        return path
