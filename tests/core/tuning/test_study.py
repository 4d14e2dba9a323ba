"""A real study: trials are tiny trainings, the storage is SQLite, MLflow records it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from core.config.optuna_params import load_optuna_params
from core.errors import CockpitError
from core.tuning.study import run_study
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")

STUDY = """
study: {name: tiny, direction: maximize, metric: valid_acc, n_trials: %d, pruner: none}
base_params: {%s}
search_space:
  lr: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}
  optimizer: {type: categorical, choices: [adam, sgd]}
"""


def write_study(ws, trials):
    base = ", ".join(
        f"{k}: {v}" for k, v in (item.split("=") for item in TINY if "lr=" not in item)
    )
    ws.optuna_params_file.write_text(STUDY % (trials, base))
    return load_optuna_params(ws.optuna_params_file)


def counted(ws, name="tiny"):
    study = optuna.load_study(study_name=name, storage=ws.optuna_storage_url)
    return study, len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))


def test_killed_study_continues_to_its_total_and_registers_once(shapes_workspace):
    ws = shapes_workspace
    config = write_study(ws, 5)
    process = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), "tune", "--theme", "shapes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            if counted(ws)[1] >= 2:
                break
        except (KeyError, ValueError):
            pass  # the study does not exist yet
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert counted(ws)[1] < 5

    outcome = run_study(ws, "shapes", config, echo=lambda _line: None)
    study, done = counted(ws)
    assert done == 5
    assert outcome.best_value == study.best_value
    assert outcome.counts["complete"] + outcome.counts["pruned"] == 5

    client = MlflowClient(ws.mlflow_tracking_uri)
    parent = client.get_run(outcome.parent_run_id)
    assert parent.data.tags["kind"] == "tuning"
    assert parent.data.params["n_trials"] == "5"
    assert parent.data.params["direction"] == "maximize"
    best_run = client.get_run(outcome.best_run_id)
    assert best_run.data.tags["mlflow.parentRunId"] == outcome.parent_run_id
    assert best_run.data.tags["optuna_trial"] == str(outcome.best_trial)
    assert parent.data.metrics["best_value"] == pytest.approx(study.best_value)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{outcome.parent_run_id}'",
    )
    assert 5 <= len(children) <= 6  # a trial killed mid-run may leave its own child run
    assert all(c.info.run_name.startswith("trial_") for c in children)
    artifacts = {a.path for a in client.list_artifacts(outcome.parent_run_id)}
    assert "best_params.yaml" in artifacts and "figures" in artifacts
    versions = client.search_model_versions("name='shapes_model'")
    assert [v.run_id for v in versions] == [outcome.parent_run_id]

    best = yaml.safe_load(outcome.best_params_file.read_text())
    assert best["lr"] == pytest.approx(study.best_params["lr"])

    # the history tells each trial's experiment by its study and trial, pruned ones too
    from core.history import list_entries

    trials = {
        t.user_attrs["experiment_id"]: t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    }
    shown = {e.experiment_id: e for e in list_entries(ws)}
    for experiment_id, trial in trials.items():
        assert shown[experiment_id].origin == f"trial {trial.number} of {study.study_name}"
        assert shown[experiment_id].status == "finished"
    pruned = [e for e in shown.values() if e.status == "pruned"]
    assert len(pruned) == len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    assert all(e.origin.startswith("trial ") for e in pruned)

    again = run_study(ws, "shapes", config, echo=lambda _line: None)
    assert again.model_version == outcome.model_version  # nothing new registered
    assert len(client.search_model_versions("name='shapes_model'")) == 1

    listed = subprocess.run(
        [
            str(Path(sys.executable).parent / "optuna"),
            "studies",
            "--storage",
            ws.optuna_storage_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and "tiny" in listed.stdout


def _trial(number, study="tiny"):
    from core.training.run import TrialHooks

    return TrialHooks(
        run_name=f"trial_{number}",
        tags={"mlflow.parentRunId": "", "optuna_trial": str(number), "study_name": study},
        on_epoch=lambda _metrics, _epoch: None,
    )


@pytest.mark.parametrize("killed_after", ["fit", "evaluation"])
def test_a_retried_trial_is_recorded_under_its_own_number(shapes_workspace, killed_after):
    """Trial 2 was killed after its fit (or after its evaluation); Optuna retries it as
    trial 5 with the same parameters: the experiment, its child run and the history name
    trial 5, whichever step the kill interrupted."""
    import json
    from dataclasses import replace

    from core.history import list_entries
    from core.training.checkpoints import CheckpointManager
    from core.training.run import train_experiment
    from tests.core.training.conftest import tiny_params

    ws = shapes_workspace
    params = tiny_params(ws)
    first = train_experiment(ws, "shapes", params, trial=_trial(2), echo=lambda _l: None)
    manager = CheckpointManager(ws.experiment_dir(first.experiment_id))
    if killed_after == "fit":  # the kill came before the evaluation was stored
        manager.write_state(replace(manager.state(), final_metrics={}))
        (manager.dir / "trial.json").write_text(
            json.dumps({"study": "tiny", "trial": 2, "job_id": None, "state": "running"})
        )
    retried = train_experiment(ws, "shapes", params, trial=_trial(5), echo=lambda _l: None)
    assert retried.experiment_id == first.experiment_id
    assert retried.metrics

    info = json.loads((manager.dir / "trial.json").read_text())
    assert (info["trial"], info["state"]) == (5, "complete")
    run = MlflowClient(ws.mlflow_tracking_uri).get_run(retried.run_id)
    assert run.info.run_name == "trial_5"
    assert run.data.tags["optuna_trial"] == "5"
    shown = {e.experiment_id: e for e in list_entries(ws)}
    assert shown[first.experiment_id].origin == "trial 5 of tiny"


def test_the_parameter_files_run_name_names_the_parent_run_before_base_params(workspace):
    """The parent run's name: the parameter file's run_name; the study's base_params only
    where the file has none."""
    from core.tuning.study import fixed_parameters

    workspace.optuna_params_file.write_text(STUDY % (3, "run_name: from-study, max_epochs: 2"))
    config = load_optuna_params(workspace.optuna_params_file)
    named = workspace.root / "named.yaml"
    named.write_text("run_name: from-file\nmax_epochs: 5\n")
    fixed = fixed_parameters(workspace, config, named)
    assert fixed["run_name"] == "from-file"
    assert fixed["max_epochs"] == 2  # every other base parameter still wins
    unnamed = workspace.root / "unnamed.yaml"
    unnamed.write_text("max_epochs: 5\n")
    assert fixed_parameters(workspace, config, unnamed)["run_name"] == "from-study"


def test_unknown_parameter_in_the_search_space_is_refused_before_any_trial(shapes_workspace):
    ws = shapes_workspace
    ws.optuna_params_file.write_text(
        "study: {name: bad}\nsearch_space:\n  learning_rate: {type: float, low: 0.1, high: 1}\n"
    )
    with pytest.raises(CockpitError, match="learning_rate: not a parameter"):
        run_study(ws, "shapes", load_optuna_params(ws.optuna_params_file), echo=lambda _line: None)
    assert not ws.optuna_db_file.exists() or "bad" not in optuna.get_all_study_names(
        ws.optuna_storage_url
    )
