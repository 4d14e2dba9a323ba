"""Suggestion and label-issue runs as MLflow runs of the theme's experiment: parameters,
the model version used, counts, the ranked list as an artifact."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.workspace import Workspace

KIND_TAG = "cockpit_kind"  # History tells these runs from trainings by it


def log_assist_run(
    workspace: Workspace,
    theme_name: str,
    kind: str,
    *,
    run_name: str,
    params: Mapping[str, Any],
    counts: Mapping[str, float],
    artifact: Mapping[str, Any] | list[Any],
    tags: Mapping[str, str] | None = None,
) -> str:
    """One finished run; returns its id."""
    from core.training.tracking import experiment_for_theme, tracking_client

    client = tracking_client(workspace)
    experiment_id = experiment_for_theme(client, workspace, theme_name)
    run = client.create_run(experiment_id, run_name=run_name, tags={KIND_TAG: kind, **(tags or {})})
    run_id = run.info.run_id
    try:
        for key, value in params.items():
            client.log_param(run_id, key, str(value)[:6000])
        for key, value in counts.items():
            client.log_metric(run_id, key, float(value))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{kind}.json"
            path.write_text(json.dumps(artifact, indent=1) + "\n", encoding="utf-8")
            client.log_artifact(run_id, str(path), "assist")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id
