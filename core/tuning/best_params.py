"""The studies of a workspace and the parameters of each study's best trial, to train or
edit further (the configuration editor's "Apply best params", ``cockpit config
best-params``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from core.errors import CockpitError
from core.fileio import load_yaml_mapping
from core.workspace import Workspace


@dataclass(frozen=True)
class StudyInfo:
    name: str
    direction: str
    completed_trials: int
    best_value: float | None


def list_studies(workspace: Workspace) -> list[StudyInfo]:
    """The studies in the workspace's optuna.db, by name (imports optuna)."""
    if not workspace.optuna_db_file.exists():
        return []
    import optuna

    summaries = optuna.get_all_study_summaries(workspace.optuna_storage_url)
    studies = []
    for summary in summaries:
        best = summary.best_trial
        studies.append(
            StudyInfo(
                name=summary.study_name,
                direction=summary.direction.name.lower(),
                completed_trials=summary.n_trials,
                best_value=best.value if best is not None else None,
            )
        )
    return sorted(studies, key=lambda s: s.name)


def best_params(workspace: Workspace, study_name: str) -> dict[str, Any]:
    """All parameters of the study's best trial.

    A finished study wrote them to ``output/studies/<name>/best_params.yaml``; for a study
    still running they come from the best trial's experiment record.
    """
    written = workspace.root / "output" / "studies" / study_name / "best_params.yaml"
    if written.exists():
        return load_yaml_mapping(written, "best parameter file")
    names = [s.name for s in list_studies(workspace)]
    if study_name not in names:
        raise CockpitError(
            f"no study {study_name!r} in {workspace.relative(workspace.optuna_db_file)}; "
            f"studies: {', '.join(names) or 'none yet'}"
        )
    import optuna

    study = optuna.load_study(study_name=study_name, storage=workspace.optuna_storage_url)
    try:
        best = study.best_trial
    except ValueError as exc:
        raise CockpitError(f"study {study_name!r} has no completed trial yet") from exc
    experiment_id = best.user_attrs.get("experiment_id")
    record = workspace.experiment_dir(str(experiment_id)) / "record" / "resolved_config.yaml"
    if experiment_id and record.exists():
        return dict(yaml.safe_load(record.read_text(encoding="utf-8"))["params"])
    return dict(best.params)
