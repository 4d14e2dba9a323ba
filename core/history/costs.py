"""What a study will cost, measured on the theme's earlier runs, and the study's plan:
the selection's inputs (core.tuning.profile), the recommended trial count for the time
budget, the sampler and the pruner, each with its reason. The CLI, the Add-tune-job dialog
and the tune job (its parent run) show the same plan."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config.optuna_params import OptunaParams
from core.history.entries import experiment_ids, read_experiment
from core.tuning.selection import (
    Choice,
    Profile,
    choose_pruner,
    choose_sampler,
    recommend_trials,
)
from core.workspace import Workspace


def seconds_per_epoch(workspace: Workspace, theme: str, model: str | None = None) -> float | None:
    """The median seconds per epoch of the theme's finished experiments (of ``model`` when
    any of that model finished); None when the theme has none."""
    per_model: list[float] = []
    per_theme: list[float] = []
    for experiment_id in experiment_ids(workspace):
        found = read_experiment(workspace, experiment_id)
        if found is None or found.theme != theme or not found.finished or not found.epochs:
            continue
        if found.started_at is None or found.finished_at is None:
            continue
        span = found.finished_at - found.started_at
        if span <= 0:
            continue
        value = span / found.epochs
        per_theme.append(value)
        if model is not None and found.params.get("model") == model:
            per_model.append(value)
    samples = per_model or per_theme
    return statistics.median(samples) if samples else None


@dataclass(frozen=True)
class StudyPlan:
    profile: Profile
    seconds_per_trial: float | None
    recommended: Choice
    n_trials: int
    sampler: Choice
    pruner: Choice

    def lines(self) -> list[str]:
        cost = (
            f"~{self.seconds_per_trial:.0f} s per trial (this theme's earlier runs)"
            if self.seconds_per_trial
            else "trial cost unknown (no finished run of this theme yet)"
        )
        return [
            f"profile: {self.profile.describe()}; {cost}",
            f"recommended: {self.recommended.reason}",
            f"sampler: {self.sampler.reason}",
            f"pruner: {self.pruner.reason}",
        ]

    def settings(self) -> dict[str, Any]:
        """What the study's parent run records about the choice."""
        return {
            **self.profile.as_dict(),
            "seconds_per_trial": self.seconds_per_trial,
            "recommended_trials": int(self.recommended.name),
            "recommended_reason": self.recommended.reason,
        }


def plan_for(
    config: OptunaParams,
    profile: Profile,
    n_trials: int | None,
    seconds_per_trial: float | None,
    budget_seconds: float | None = None,
) -> StudyPlan:
    recommended = recommend_trials(
        config, seconds_per_trial, profile, budget_seconds=budget_seconds
    )
    trials = n_trials or config.study.n_trials
    return StudyPlan(
        profile=profile,
        seconds_per_trial=seconds_per_trial,
        recommended=recommended,
        n_trials=trials,
        sampler=choose_sampler(config, trials, profile),
        pruner=choose_pruner(config, trials, profile),
    )


def plan_study(
    workspace: Workspace,
    theme: str,
    config: OptunaParams,
    *,
    params_file: Path | None = None,
    n_trials: int | None = None,
    budget_seconds: float | None = None,
) -> StudyPlan:
    """The plan of a study of ``config`` on ``theme`` (builds nothing but the network on
    PyTorch's meta device to count its parameters)."""
    from core.config import resolve_params
    from core.data.snapshot import load_snapshot
    from core.db import open_database
    from core.tuning.profile import study_profile
    from core.tuning.study import fixed_parameters

    fixed = fixed_parameters(workspace, config, params_file)
    base = resolve_params(workspace, base=fixed, base_label="tuning base", read_params_file=False)
    snapshot = load_snapshot(open_database(workspace), theme)
    profile = study_profile(workspace, config, base, snapshot)
    per_epoch = seconds_per_epoch(workspace, theme, base.values.get("model"))
    per_trial = per_epoch * profile.max_epochs if per_epoch else None
    return plan_for(config, profile, n_trials, per_trial, budget_seconds)
