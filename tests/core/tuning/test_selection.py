"""The selection table: the seed's example spaces and dataset sizes through the selector."""

import optuna
import pytest

from core.config.optuna_params import OptunaParams
from core.tuning.selection import (
    DatasetSize,
    ModelComplexity,
    Profile,
    SearchComplexity,
    build_pruner,
    choose_pruner,
    choose_sampler,
    grid_size,
    recommend_trials,
)


def study(space, **settings):
    return OptunaParams.model_validate({"study": settings, "search_space": space})


SMALL_DISCRETE = {
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    "batch_size": {"type": "int", "low": 16, "high": 64, "step": 16},
}
CONTINUOUS = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
}
# the seed's custom space: max_steps / learning_rate / batch_size / n_blocks / hidden_size,
# made concrete for image classification
SEED_SPACE = {
    "max_epochs": {"type": "categorical", "choices": [10, 20, 30]},
    "lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [64, 128, 256]},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
}

SIMPLE, COMPLEX = 62_006, 11_200_000  # simple_cnn, ResNet-18


def profile(config, parameters, train_images, max_epochs=40):
    return Profile.of(
        config, parameters=parameters, train_images=train_images, max_epochs=max_epochs
    )


def test_levels_from_counts():
    config = study(SEED_SPACE)
    assert profile(config, SIMPLE, 500).model is ModelComplexity.SIMPLE
    assert profile(config, 3_000_000, 500).model is ModelComplexity.MODERATE
    assert profile(config, COMPLEX, 500).model is ModelComplexity.COMPLEX
    assert profile(config, SIMPLE, 500).data is DatasetSize.SMALL
    assert profile(config, SIMPLE, 5_000).data is DatasetSize.MEDIUM
    assert profile(config, SIMPLE, 50_000).data is DatasetSize.LARGE
    assert profile(config, SIMPLE, 50_000).space is SearchComplexity.HIGH  # 5 dims, mixed
    assert profile(study(CONTINUOUS), SIMPLE, 1).space is SearchComplexity.MEDIUM
    assert profile(study(SMALL_DISCRETE), SIMPLE, 1).space is SearchComplexity.LOW
    six = {f"p{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(6)}
    assert profile(study(six), SIMPLE, 1).space is SearchComplexity.HIGH


def test_grid_for_a_small_discrete_space_the_trials_cover():
    config = study(SMALL_DISCRETE)
    assert grid_size(config.search_space) == 8
    assert choose_sampler(config, 8).name == "grid"
    assert "8 points" in choose_sampler(config, 8).reason


@pytest.mark.parametrize("data", [500, 5_000, 50_000])
def test_random_below_ten_trials_whatever_the_data(data):
    config = study(SEED_SPACE)
    assert choose_sampler(config, 6, profile(config, COMPLEX, data)).name == "random"


@pytest.mark.parametrize(
    ("parameters", "train_images", "space", "sampler", "pruner"),
    [
        # large data + complex model: multivariate TPE, Hyperband(5, 3)
        (COMPLEX, 50_000, SEED_SPACE, "tpe", "hyperband"),
        # medium data: TPE for a mixed space / CMA-ES for a numeric one;
        # complex model: median pruner with 10 warm-up epochs
        (COMPLEX, 5_000, SEED_SPACE, "tpe", "median"),
        (COMPLEX, 5_000, CONTINUOUS, "cmaes", "median"),
        # small data: random sampling, cautious median pruner (20 warm-up epochs)
        (SIMPLE, 500, SEED_SPACE, "random", "median-cautious"),
        (COMPLEX, 500, CONTINUOUS, "random", "median-cautious"),
        # the table is silent on large data with a simple model: TPE, median pruner
        (SIMPLE, 50_000, SEED_SPACE, "tpe", "median"),
    ],
)
def test_the_selection_table(parameters, train_images, space, sampler, pruner):
    config = study(space)
    shape = profile(config, parameters, train_images)
    chosen = choose_sampler(config, 50, shape)
    assert chosen.name == sampler
    assert chosen.reason  # every choice carries its reason
    assert choose_pruner(config, 50, shape).name == pruner


def test_pruner_settings_follow_the_table_adapted_to_epochs():
    config = study(SEED_SPACE)
    hyperband = build_pruner(
        choose_pruner(config, 50, profile(config, COMPLEX, 50_000)),
        profile(config, COMPLEX, 50_000),
    )
    assert isinstance(hyperband, optuna.pruners.HyperbandPruner)
    assert hyperband._min_resource == 5 and hyperband._reduction_factor == 3
    median = build_pruner(
        choose_pruner(config, 50, profile(config, COMPLEX, 5_000)),
        profile(config, COMPLEX, 5_000),
    )
    assert isinstance(median, optuna.pruners.MedianPruner)
    assert median._n_warmup_steps == 10
    cautious = choose_pruner(config, 50, profile(config, SIMPLE, 500))
    assert build_pruner(cautious, profile(config, SIMPLE, 500))._n_warmup_steps == 20
    # a 10-epoch trial: the warm-up is capped at half its epochs, and the reason says so
    short = profile(config, SIMPLE, 500, max_epochs=10)
    assert build_pruner(choose_pruner(config, 50, short), short)._n_warmup_steps == 5
    assert "capped at half of 10 epochs" in choose_pruner(config, 50, short).reason


def test_explicit_choices_win():
    assert choose_sampler(study(CONTINUOUS, sampler="tpe"), 5).name == "tpe"
    assert choose_pruner(study(CONTINUOUS, pruner="none"), 50).name == "none"


def test_trial_recommendation_and_the_time_budget():
    assert recommend_trials(study(SMALL_DISCRETE)).name == "8"
    assert recommend_trials(study(CONTINUOUS)).name == "20"
    config = study(SEED_SPACE)
    # a complex model on large data: fewer, smarter trials
    assert int(recommend_trials(config, profile=profile(config, COMPLEX, 50_000)).name) < int(
        recommend_trials(config, profile=profile(config, SIMPLE, 5_000)).name
    )
    budget = recommend_trials(study(CONTINUOUS, timeout=100), seconds_per_trial=20)
    assert budget.name == "5" and "100 s" in budget.reason
    hours = recommend_trials(study(CONTINUOUS), seconds_per_trial=600, budget_seconds=3600)
    assert hours.name == "6" and "measured" in hours.reason
    unknown = recommend_trials(study(CONTINUOUS), budget_seconds=3600)
    assert "no earlier run" in unknown.reason
