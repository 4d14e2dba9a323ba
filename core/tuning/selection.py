"""Sampler, pruner and trial count chosen from the search space (seed 002), each with a
one-line explanation the CLI and GUI show.

- fewer than 10 trials: random sampling (model-based samplers need history to help);
- a small, fully discrete space that the trials can cover: grid search;
- a continuous space of 2-10 dimensions with enough trials: CMA-ES;
- otherwise (large, mixed or categorical spaces): multivariate TPE.
Pruning: median pruner with warm-up for short studies, Hyperband for long ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.config.optuna_params import Categorical, FloatRange, IntRange, OptunaParams

CMA_MIN_TRIALS = 20
HYPERBAND_MIN_TRIALS = 40


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str


def grid_size(space: dict[str, Any]) -> int | None:
    """Number of points of a fully discrete space; None when a dimension is continuous."""
    size = 1
    for dim in space.values():
        if isinstance(dim, Categorical):
            size *= len(dim.choices)
        elif isinstance(dim, IntRange) and not dim.log:
            size *= (dim.high - dim.low) // dim.step + 1
        elif isinstance(dim, FloatRange) and dim.step is not None:
            size *= round((dim.high - dim.low) / dim.step) + 1
        else:
            return None
    return size


def choose_sampler(config: OptunaParams, n_trials: int) -> Choice:
    if config.study.sampler != "auto":
        return Choice(config.study.sampler, f"{config.study.sampler} (set in the study file)")
    space = config.search_space
    size = grid_size(space)
    if size is not None and size <= n_trials:
        return Choice(
            "grid", f"grid: the discrete space has {size} points, {n_trials} trials cover it"
        )
    if n_trials < 10:
        return Choice("random", f"random: {n_trials} trials are too few for a model-based sampler")
    continuous = all(isinstance(d, FloatRange | IntRange) for d in space.values())
    if continuous and 2 <= len(space) <= 10 and n_trials >= CMA_MIN_TRIALS:
        return Choice("cmaes", f"CMA-ES: {len(space)} numeric dimensions, {n_trials} trials")
    return Choice("tpe", f"multivariate TPE: {len(space)} dimension(s), mixed or large space")


def choose_pruner(config: OptunaParams, n_trials: int) -> Choice:
    if config.study.pruner != "auto":
        return Choice(config.study.pruner, f"{config.study.pruner} (set in the study file)")
    if n_trials >= HYPERBAND_MIN_TRIALS:
        return Choice("hyperband", f"Hyperband: {n_trials} trials make early stopping pay off")
    return Choice("median", "median pruner after 2 warm-up epochs and 3 complete trials")


def recommend_trials(config: OptunaParams, seconds_per_trial: float | None = None) -> Choice:
    """A trial count for the space (and the time budget, when a trial's cost is known)."""
    size = grid_size(config.search_space)
    dims = len(config.search_space)
    wanted = min(size, 10 * dims) if size is not None else max(10, 10 * dims)
    reason = f"{wanted} trials: about 10 per dimension"
    if size is not None and size <= 10 * dims:
        reason = f"{wanted} trials: the whole discrete space"
    timeout = config.study.timeout
    if timeout and seconds_per_trial:
        affordable = max(1, math.floor(timeout / seconds_per_trial))
        if affordable < wanted:
            wanted = affordable
            reason = (
                f"{wanted} trials: what {timeout:.0f} s allow at ~{seconds_per_trial:.0f} s each"
            )
    return Choice(str(wanted), reason)


def build_sampler(choice: Choice, config: OptunaParams, seed: int) -> Any:
    import optuna

    if choice.name == "grid":
        grid = {}
        for name, dim in config.search_space.items():
            if isinstance(dim, Categorical):
                grid[name] = list(dim.choices)
            elif isinstance(dim, IntRange):
                grid[name] = list(range(dim.low, dim.high + 1, dim.step))
            else:
                steps = round((dim.high - dim.low) / dim.step)
                grid[name] = [dim.low + i * dim.step for i in range(steps + 1)]
        return optuna.samplers.GridSampler(grid, seed=seed)
    if choice.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if choice.name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, warn_independent_sampling=False)


def build_pruner(choice: Choice) -> Any:
    import optuna

    if choice.name == "none":
        return optuna.pruners.NopPruner()
    if choice.name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
