"""Sampler, pruner and trial count chosen from the model, the data and the search space,
each with a one-line reason the CLI, the Add-tune-job dialog and the study's parent run show.

The inputs (a :class:`Profile`):
- model complexity, from the network's parameter count (simple < 1 M <= moderate < 10 M
  <= complex; ``simple_cnn`` has ~62 k, ResNet-18 ~11 M);
- dataset size, from the theme's labeled train split (small < 1,000 <= medium < 20,000
  <= large images);
- search complexity, from the space (low: a discrete space of <= 50 points or one
  dimension; high: 6 or more dimensions, or 4 or more with a categorical one; else medium).

The sampler, first rule that holds:
  1. a small discrete space the trials cover -> grid (every point once beats sampling);
  2. fewer than 10 trials -> random (a model-based sampler needs history to help);
  3. large data and a complex model -> multivariate TPE;
  4. medium data -> CMA-ES for a numeric space of 2-10 dimensions with >= 20 trials,
     otherwise multivariate TPE;
  5. small data -> random (trial results are noisy; a model of them would fit noise);
  6. otherwise (large data, a simple or moderate model) -> multivariate TPE.
The pruner:
  large data and a complex model -> Hyperband (min_resource 5 epochs, reduction factor 3);
  small data -> a cautious median pruner (20 warm-up epochs);
  otherwise -> median pruner (10 warm-up epochs).
One reported step is one epoch here; warm-ups and Hyperband's minimum resource are capped
at half of ``max_epochs`` so a pruner can still act in the second half of a short run
(docs/tuning-selection.md explains the adaptation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.config.optuna_params import Categorical, FloatRange, IntRange, OptunaParams

CMA_MIN_TRIALS = 20
RANDOM_BELOW_TRIALS = 10
SIMPLE_MAX_PARAMETERS = 1_000_000
COMPLEX_MIN_PARAMETERS = 10_000_000
SMALL_MAX_TRAIN = 1_000
LARGE_MIN_TRAIN = 20_000
LOW_MAX_GRID = 50
HYPERBAND_MIN_RESOURCE = 5
HYPERBAND_REDUCTION = 3
MEDIAN_WARMUP = 10
CAUTIOUS_WARMUP = 20
MEDIAN_STARTUP_TRIALS = 3


class ModelComplexity(StrEnum):
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"


class DatasetSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class SearchComplexity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


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


def model_complexity(parameters: int | None) -> ModelComplexity:
    if parameters is None:
        return ModelComplexity.MODERATE
    if parameters < SIMPLE_MAX_PARAMETERS:
        return ModelComplexity.SIMPLE
    if parameters < COMPLEX_MIN_PARAMETERS:
        return ModelComplexity.MODERATE
    return ModelComplexity.COMPLEX


def dataset_size(train_images: int | None) -> DatasetSize:
    if train_images is None:
        return DatasetSize.MEDIUM
    if train_images < SMALL_MAX_TRAIN:
        return DatasetSize.SMALL
    if train_images < LARGE_MIN_TRAIN:
        return DatasetSize.MEDIUM
    return DatasetSize.LARGE


def search_complexity(space: dict[str, Any]) -> SearchComplexity:
    dims = len(space)
    size = grid_size(space)
    if dims <= 1 or (size is not None and size <= LOW_MAX_GRID):
        return SearchComplexity.LOW
    categorical = any(isinstance(d, Categorical) for d in space.values())
    if dims >= 6 or (categorical and dims >= 4):
        return SearchComplexity.HIGH
    return SearchComplexity.MEDIUM


@dataclass(frozen=True)
class Profile:
    """What the selection is decided from; ``None`` counts are unknown (then the middle
    level is assumed, and the reasons say so)."""

    parameters: int | None = None
    train_images: int | None = None
    max_epochs: int = 10
    dimensions: int = 0
    grid: int | None = None
    space: SearchComplexity = SearchComplexity.MEDIUM

    @classmethod
    def of(
        cls,
        config: OptunaParams,
        *,
        parameters: int | None,
        train_images: int | None,
        max_epochs: int,
    ) -> Profile:
        space = config.search_space
        return cls(
            parameters=parameters,
            train_images=train_images,
            max_epochs=max(1, int(max_epochs)),
            dimensions=len(space),
            grid=grid_size(space),
            space=search_complexity(space),
        )

    @property
    def model(self) -> ModelComplexity:
        return model_complexity(self.parameters)

    @property
    def data(self) -> DatasetSize:
        return dataset_size(self.train_images)

    def describe(self) -> str:
        model = (
            f"{self.model.value} model ({self.parameters:,} parameters)"
            if self.parameters is not None
            else "model size unknown (moderate assumed)"
        )
        data = (
            f"{self.data.value} data ({self.train_images:,} train images)"
            if self.train_images is not None
            else "data size unknown (medium assumed)"
        )
        points = f", {self.grid} points" if self.grid is not None else ""
        space = (
            f"{self.space.value} search complexity ({self.dimensions} dimension"
            f"{'' if self.dimensions == 1 else 's'}{points})"
        )
        return f"{model}, {data}, {space}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_parameters": self.parameters,
            "model_complexity": self.model.value,
            "train_images": self.train_images,
            "dataset_size": self.data.value,
            "search_dimensions": self.dimensions,
            "search_grid_points": self.grid,
            "search_complexity": self.space.value,
            "max_epochs": self.max_epochs,
        }


UNKNOWN = Profile()


def _numeric(space: dict[str, Any]) -> bool:
    return all(isinstance(d, FloatRange | IntRange) for d in space.values())


def choose_sampler(config: OptunaParams, n_trials: int, profile: Profile = UNKNOWN) -> Choice:
    if config.study.sampler != "auto":
        return Choice(config.study.sampler, f"{config.study.sampler} (set in the study file)")
    space = config.search_space
    size = grid_size(space)
    if size is not None and size <= n_trials:
        return Choice(
            "grid", f"grid: the discrete space has {size} points, {n_trials} trials cover it"
        )
    if n_trials < RANDOM_BELOW_TRIALS:
        return Choice(
            "random", f"random: {n_trials} trials are too few for a model-based sampler"
        )
    model, data = profile.model, profile.data
    if data is DatasetSize.LARGE and model is ModelComplexity.COMPLEX:
        return Choice(
            "tpe",
            f"multivariate TPE: large data and a complex model make each trial costly, "
            f"so a model of the {len(space)}-dimensional space pays off",
        )
    if data is DatasetSize.MEDIUM:
        if _numeric(space) and 2 <= len(space) <= 10 and n_trials >= CMA_MIN_TRIALS:
            return Choice(
                "cmaes",
                f"CMA-ES: medium data, {len(space)} numeric dimensions, {n_trials} trials",
            )
        return Choice(
            "tpe", f"multivariate TPE: medium data, {len(space)} dimension(s), mixed space"
        )
    if data is DatasetSize.SMALL:
        return Choice(
            "random",
            f"random: with small data ({profile.train_images} train images) trial results "
            "are noisy, and a model of them would fit the noise",
        )
    return Choice(
        "tpe",
        f"multivariate TPE: large data with a {model.value} model, {len(space)} dimension(s)",
    )


def _capped(epochs: int, profile: Profile) -> tuple[int, str]:
    cap = max(1, profile.max_epochs // 2)
    if epochs <= cap:
        return epochs, f"{epochs} epochs"
    return cap, f"{cap} epochs ({epochs} capped at half of {profile.max_epochs} epochs)"


def choose_pruner(config: OptunaParams, n_trials: int, profile: Profile = UNKNOWN) -> Choice:
    if config.study.pruner != "auto":
        return Choice(config.study.pruner, f"{config.study.pruner} (set in the study file)")
    model, data = profile.model, profile.data
    if data is DatasetSize.LARGE and model is ModelComplexity.COMPLEX:
        _, text = _capped(HYPERBAND_MIN_RESOURCE, profile)
        return Choice(
            "hyperband",
            f"Hyperband (minimum resource {text}, reduction factor {HYPERBAND_REDUCTION}): "
            "large data and a complex model make stopping bad trials early pay off",
        )
    if data is DatasetSize.SMALL:
        _, text = _capped(CAUTIOUS_WARMUP, profile)
        return Choice(
            "median-cautious",
            f"cautious median pruner ({text} of warm-up, after {MEDIAN_STARTUP_TRIALS} "
            "complete trials): small data gives noisy early curves",
        )
    _, text = _capped(MEDIAN_WARMUP, profile)
    return Choice(
        "median",
        f"median pruner ({text} of warm-up, after {MEDIAN_STARTUP_TRIALS} complete trials)",
    )


def recommend_trials(
    config: OptunaParams,
    seconds_per_trial: float | None = None,
    profile: Profile = UNKNOWN,
    *,
    budget_seconds: float | None = None,
) -> Choice:
    """A trial count for the space, the model and the data, cut to the time budget (the
    study's ``timeout`` or ``budget_seconds``) when a trial's cost is known."""
    size = grid_size(config.search_space)
    dims = len(config.search_space)
    per_dimension = {
        SearchComplexity.LOW: 10,
        SearchComplexity.MEDIUM: 10,
        SearchComplexity.HIGH: 15,
    }[profile.space]
    if profile.model is ModelComplexity.COMPLEX and profile.data is DatasetSize.LARGE:
        per_dimension = max(5, per_dimension // 2)  # each trial is expensive: fewer, smarter
    wanted = max(10, per_dimension * dims)
    reason = f"{wanted} trials: about {per_dimension} per dimension for {profile.describe()}"
    if size is not None and size <= wanted:
        wanted = size
        reason = f"{wanted} trials: the whole discrete space"
    budget = budget_seconds or config.study.timeout
    if budget and seconds_per_trial:
        affordable = max(1, math.floor(budget / seconds_per_trial))
        if affordable < wanted:
            wanted = affordable
            reason = (
                f"{wanted} trials: what {budget:.0f} s allow at ~{seconds_per_trial:.0f} s "
                "per trial (measured on this theme's earlier runs)"
            )
    elif budget and not seconds_per_trial:
        reason += f"; no earlier run of this theme to fit the {budget:.0f} s budget to"
    return Choice(str(wanted), reason)


def build_sampler(choice: Choice, config: OptunaParams, seed: int, parallel: bool = False) -> Any:
    """``parallel``: other workers share the study; TPE then treats their running trials
    as bad results (constant liar) so that workers do not all sample the same region."""
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
    return optuna.samplers.TPESampler(
        seed=seed, multivariate=True, warn_independent_sampling=False, constant_liar=parallel
    )


def build_pruner(choice: Choice, profile: Profile = UNKNOWN) -> Any:
    import optuna

    if choice.name == "none":
        return optuna.pruners.NopPruner()
    if choice.name == "hyperband":
        resource, _ = _capped(HYPERBAND_MIN_RESOURCE, profile)
        return optuna.pruners.HyperbandPruner(
            min_resource=resource,
            max_resource=max(resource, profile.max_epochs),
            reduction_factor=HYPERBAND_REDUCTION,
        )
    warmup = CAUTIOUS_WARMUP if choice.name == "median-cautious" else MEDIAN_WARMUP
    steps, _ = _capped(warmup, profile)
    return optuna.pruners.MedianPruner(
        n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=steps
    )
