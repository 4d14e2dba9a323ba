from core.config.optuna_params import OptunaParams
from core.tuning.selection import choose_pruner, choose_sampler, grid_size, recommend_trials


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


def test_grid_for_a_small_discrete_space_the_trials_cover():
    config = study(SMALL_DISCRETE)
    assert grid_size(config.search_space) == 8
    assert choose_sampler(config, 8).name == "grid"
    assert "8 points" in choose_sampler(config, 8).reason


def test_random_when_trials_are_few():
    assert choose_sampler(study(CONTINUOUS), 6).name == "random"


def test_cmaes_for_continuous_spaces_with_enough_trials():
    assert choose_sampler(study(CONTINUOUS), 30).name == "cmaes"


def test_tpe_for_mixed_or_large_spaces():
    assert choose_sampler(study({**CONTINUOUS, **SMALL_DISCRETE}), 30).name == "tpe"


def test_explicit_choices_win():
    assert choose_sampler(study(CONTINUOUS, sampler="tpe"), 5).name == "tpe"
    assert choose_pruner(study(CONTINUOUS, pruner="none"), 50).name == "none"


def test_pruner_and_trial_recommendation():
    assert choose_pruner(study(CONTINUOUS), 10).name == "median"
    assert choose_pruner(study(CONTINUOUS), 100).name == "hyperband"
    assert recommend_trials(study(SMALL_DISCRETE)).name == "8"
    assert recommend_trials(study(CONTINUOUS)).name == "20"
    budget = recommend_trials(study(CONTINUOUS, timeout=100), seconds_per_trial=20)
    assert budget.name == "5" and "100 s" in budget.reason
