"""A study's sampler seed (new studies differ, resumed ones repeat) and what a run says
about the trials it ran."""

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from core.tuning.study import SAMPLER_SEED_ATTR, run_study, study_sampler_seed
from tests.core.tuning.test_study import counted, write_study

pytestmark = pytest.mark.filterwarnings("ignore")


def _suggested(storage, name, trials=3, base_seed=42):
    """Run ``trials`` random-sampled trials the way run_study seeds its sampler."""
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True)
    seed = study_sampler_seed(study, base_seed) + len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.RandomSampler(seed=seed)
    before = len(study.get_trials(deepcopy=False))
    study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=trials)
    return [t.params["lr"] for t in study.get_trials(deepcopy=False)[before:]]


def test_two_new_studies_of_one_space_do_not_repeat_each_other(tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    first = _suggested(storage, "first")
    second = _suggested(storage, "second")
    assert not set(first) & set(second)
    # the seed is recorded: a resumed study keeps it whatever the base seed is now
    study = optuna.load_study(study_name="first", storage=storage)
    recorded = study.user_attrs[SAMPLER_SEED_ATTR]
    assert study_sampler_seed(study, 7) == recorded


def test_a_resumed_study_is_reproducible_for_the_same_history(tmp_path):
    # two stores with the same history give the same next trials
    runs = []
    for store in ("a", "b"):
        storage = f"sqlite:///{tmp_path / store}.db"
        _suggested(storage, "same", trials=2)
        runs.append(_suggested(storage, "same", trials=2))
    assert runs[0] == runs[1]
    # and the resumed run does not replay the first run's suggestions
    storage = f"sqlite:///{tmp_path / 'c'}.db"
    assert not set(_suggested(storage, "same", trials=2)) & set(_suggested(storage, "same", 2))


def test_a_study_from_before_the_recorded_seed_keeps_its_base_seed(tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="old", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert study_sampler_seed(study, 42) == 42
    assert optuna.load_study(study_name="old", storage=storage).user_attrs[SAMPLER_SEED_ATTR] == 42


@pytest.mark.slow
def test_a_finished_study_says_it_ran_no_trial_and_more_trials_run_when_asked(shapes_workspace):
    ws = shapes_workspace
    config = write_study(ws, 2)
    study = optuna.create_study(
        study_name="tiny", storage=ws.optuna_storage_url, direction="maximize"
    )
    space = {
        "lr": FloatDistribution(1e-3, 3e-2, log=True),
        "optimizer": CategoricalDistribution(["adam", "sgd"]),
    }
    for lr in (0.002, 0.02):
        study.add_trial(
            create_trial(
                state=TrialState.PRUNED,
                params={"lr": lr, "optimizer": "adam"},
                distributions=space,
                intermediate_values={0: 0.3},
            )
        )
    lines = []
    outcome = run_study(ws, "shapes", config, echo=lines.append)
    assert (outcome.trials_before, outcome.trials_run) == (2, 0)
    assert counted(ws)[1] == 2
    advice = next(line for line in lines if "nothing to run" in line)
    assert "already has 2 of 2 trials done" in advice and "--n-trials above 2" in advice
    assert "ran 0 trials in this run; the study had 2 trials done before" in "\n".join(lines)

    lines.clear()
    outcome = run_study(ws, "shapes", config, n_trials=3, echo=lines.append)  # the advice
    assert (outcome.trials_before, outcome.trials_run) == (2, 1)
    assert counted(ws)[1] == 3
    assert "ran 1 trial in this run; the study had 2 trials done before and has 3 of 3 now" in (
        "\n".join(lines)
    )
