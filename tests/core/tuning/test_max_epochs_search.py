"""A study that searches max_epochs: trials never share weights (each its own experiment),
while max_epochs alone keeps extending one experiment outside such a study."""

import pytest

from core.config.optuna_params import load_optuna_params
from core.training.checkpoints import CheckpointManager
from core.tuning.study import run_study
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.slow
def test_trials_differing_only_in_max_epochs_are_distinct_experiments(shapes_workspace):
    ws = shapes_workspace
    base = ", ".join(
        f"{k}: {v}" for k, v in (item.split("=") for item in TINY if "max_epochs" not in item)
    )
    ws.optuna_params_file.write_text(
        "study: {name: epochs, direction: maximize, metric: valid_acc, n_trials: 2, "
        "pruner: none}\n"
        f"base_params: {{{base}}}\n"
        "search_space:\n  max_epochs: {type: categorical, choices: [1, 2]}\n"
    )
    outcome = run_study(
        ws, "shapes", load_optuna_params(ws.optuna_params_file), echo=lambda _line: None
    )
    assert outcome.counts["complete"] == 2
    import optuna

    study = optuna.load_study(study_name="epochs", storage=ws.optuna_storage_url)
    trained = {t.params["max_epochs"]: t.user_attrs["experiment_id"] for t in study.get_trials()}
    assert len(set(trained.values())) == 2, trained
    for epochs, experiment in trained.items():
        state = CheckpointManager(ws.experiment_dir(experiment)).state()
        assert state.completed_epochs == epochs  # nobody topped up another trial's run
