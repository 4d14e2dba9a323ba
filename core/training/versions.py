"""What the model registry knows of a version's weights, in tags written when it is
registered (light: no MLflow, torch or database import, so listings stay fast)."""

from __future__ import annotations

from typing import Any

REGISTERED_VERSION_TAG = "registered_version"  # run tag: the version its weights became
METRIC_TAG = "metric."  # version tags metric.<name>: the registered weights' metrics


def registry_metric(metrics: dict[str, float]) -> str | None:
    """The metric versions of a theme are ranked by: test accuracy, else valid accuracy."""
    return next((k for k in ("test_acc", "valid_acc") if k in metrics), None)


def version_metrics(version: Any, run_metrics: dict[str, float] | None = None) -> dict[str, float]:
    """The metrics of a version's registered weights (tags written at registration);
    versions registered before those tags fall back to their source run's metrics."""
    tagged = {
        key.removeprefix(METRIC_TAG): float(value)
        for key, value in (version.tags or {}).items()
        if key.startswith(METRIC_TAG)
    }
    return tagged or dict(run_metrics or {})
