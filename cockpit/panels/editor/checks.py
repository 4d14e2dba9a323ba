"""What the editor computes off the GUI thread (no Qt here): the documents and choices at
start, and, after each edit, the checks of the three files plus the experiment preview."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.config.editing import (
    ParamsCheck,
    check_augments_text,
    check_optuna_text,
    check_params_text,
)
from core.config.optuna_params import OptunaParams
from core.errors import CockpitError
from core.history.preview import ExperimentPreview, preview_experiment
from core.workspace import Workspace

DOCUMENTS = ("params", "augments", "optuna")


def document_paths(workspace: Workspace) -> dict[str, Path]:
    return {
        "params": workspace.params_file,
        "augments": workspace.augments_file,
        "optuna": workspace.optuna_params_file,
    }


@dataclass(frozen=True)
class StartState:
    texts: dict[str, str]
    themes: list[str]
    datasets: list[str]
    models: dict[str, list[str]]  # model -> its adapters
    problems: list[str]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CockpitError(f"cannot read {path}: {exc}") from exc


def load_start(workspace: Workspace) -> StartState:
    from core.data.themes import list_themes
    from core.db import open_database
    from core.registry import Registry

    problems: list[str] = []
    texts = {name: read_text(path) for name, path in document_paths(workspace).items()}
    themes = [t.name for t in list_themes(open_database(workspace))]
    datasets: list[str] = []
    models: dict[str, list[str]] = {}
    try:
        registry = Registry.from_workspace(workspace).file
        datasets = list(registry.datasets)
        models = {name: list(entry.adapters) for name, entry in registry.models.items()}
    except CockpitError as exc:
        problems.append(str(exc))
    return StartState(texts, themes, datasets, models, problems)


@dataclass(frozen=True)
class EditorCheck:
    generation: int
    theme: str | None
    params: ParamsCheck
    augments_errors: list[str]
    optuna: OptunaParams | None
    optuna_errors: list[str]
    preview: ExperimentPreview | None = None
    preview_error: str | None = None
    notes: list[str] = field(default_factory=list)


def check_editor(
    workspace: Workspace,
    generation: int,
    theme: str | None,
    texts: dict[str, str],
    labels: dict[str, str],
    try_transforms: bool = False,
) -> EditorCheck:
    """Validate the three texts; preview the experiment when the parameters are valid.
    ``try_transforms``: run each augmentation once (after the user edited augments.yaml;
    not at start, which must not import the engine)."""
    params = check_params_text(workspace, texts["params"], labels["params"])
    augments_errors = check_augments_text(
        texts["augments"], labels["augments"], try_transforms=try_transforms
    )
    optuna, optuna_errors = (None, [])
    if texts["optuna"].strip():
        optuna, optuna_errors = check_optuna_text(
            texts["optuna"], params.resolved, labels["optuna"]
        )
    preview, preview_error = None, None
    if params.resolved is not None and theme:
        try:
            preview = preview_experiment(workspace, theme, params.resolved)
        except CockpitError as exc:
            preview_error = str(exc)
    return EditorCheck(
        generation, theme, params, augments_errors, optuna, optuna_errors, preview, preview_error
    )


def submit_train_job(
    workspace: Workspace,
    theme: str,
    params_text: str,
    label: str,
    start: bool,
    *,
    name: str | None = None,
) -> Any:
    """The same submission as ``cockpit submit train [--name NAME]``, of the editor's
    (unsaved) text."""
    from core.jobs.submit import submit_train

    check = check_params_text(workspace, params_text, label)
    if check.resolved is None:
        raise CockpitError("\n".join([*check.errors, *check.field_errors.values()]))
    return submit_train(workspace, theme, check.resolved, name=name, start=start)


def submit_tune_job(
    workspace: Workspace,
    theme: str,
    params_text: str,
    optuna_text: str,
    *,
    n_trials: int,
    sampler: str,
    workers: int,
    start: bool,
) -> tuple[list[Any], list[str]]:
    """``cockpit submit tune --params P --optuna-params O --n-trials N`` of the editor's
    texts: they are written to temporary files for the call (the job freezes them)."""
    from core.jobs.submit import submit_tune

    study = yaml.safe_load(optuna_text) or {}
    study.setdefault("study", {})["sampler"] = sampler
    with tempfile.TemporaryDirectory(prefix="cockpit-editor-") as folder:
        params_file = Path(folder) / "params.yaml"
        optuna_file = Path(folder) / "optuna_params.yaml"
        params_file.write_text(params_text, encoding="utf-8")
        optuna_file.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
        try:
            return submit_tune(
                workspace,
                theme,
                optuna_file,
                params_file=params_file,
                n_trials=n_trials,
                workers=workers,
                start=start,
            )
        except CockpitError as exc:  # name the editor's documents, not the temporary files
            raise CockpitError(str(exc).replace(f"{folder}/", "")) from exc
