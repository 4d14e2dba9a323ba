"""Suggestion and label-issue runs as MLflow runs of the theme's experiment: parameters,
the model version used, counts, the ranked list as an artifact."""

from __future__ import annotations

import json
import re
import tempfile
import time
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
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        client.log_batch(  # one store transaction for every parameter and count
            run_id,
            metrics=[
                Metric(key, float(counts[name]), now, 0)
                for name, key in metric_keys(list(counts)).items()
            ],
            params=[Param(key, str(value)[:6000]) for key, value in params.items()],
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{kind}.json"
            path.write_text(_json_rows(artifact), encoding="utf-8")
            client.log_artifact(run_id, str(path), "assist")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


# what MLflow takes in a metric key (its rule on Windows: no colon); a label's name, which
# may hold an apostrophe or a combining accent, becomes a key by replacing the others
_NOT_IN_KEY = re.compile(r"[^\w.\- ]")


def metric_keys(names: list[str]) -> dict[str, str]:
    """A valid, distinct MLflow metric key for each name (``suggested_dog's`` ->
    ``suggested_dog_s``; a second name that would give the same key gets ``_2``)."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = _NOT_IN_KEY.sub("_", name)
        key, number = base, 1
        while key in used:
            number += 1
            key = f"{base}_{number}"
        used.add(key)
        keys[name] = key
    return keys


def _json_rows(artifact: Mapping[str, Any] | list[Any]) -> str:
    """JSON written by the C encoder in one call (``indent``, or a call per item, costs a
    tenth of what suggesting 20,000 images adds to a bare predict); a mapping, small,
    stays indented."""
    if not isinstance(artifact, list):
        return json.dumps(artifact, indent=1) + "\n"
    return json.dumps(artifact) + "\n"
