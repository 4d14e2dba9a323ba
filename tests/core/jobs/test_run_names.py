"""A job's run name at submit: the user's (``--name``), else what differs from the
defaults; a label only, never in the experiment id nor written as a parameter."""

from __future__ import annotations

import pytest

from core.config import parse_overrides, resolve_params
from core.config.naming import run_name_of
from core.errors import CockpitError
from core.jobs.queue import JobQueue
from core.jobs.submit import submit_train


def test_a_submitted_job_is_named_by_what_differs(shapes_workspace):
    ws = shapes_workspace
    params = resolve_params(ws, overrides=parse_overrides(["lr=0.01", "batch_size=8"]))
    job = submit_train(ws, "shapes", params, start=False)
    assert job.name == "lr=0.01 bs=8"
    assert JobQueue(ws).get(job.id).name == "lr=0.01 bs=8"
    assert job.params["run_name"] == ""  # a derived name is never written as a parameter
    assert run_name_of(params) == "lr=0.01 bs=8"


def test_a_user_name_is_kept_and_is_not_in_the_experiment_id(shapes_workspace):
    ws = shapes_workspace
    params = resolve_params(ws, overrides=parse_overrides(["lr=0.02"]))
    named = submit_train(ws, "shapes", params, name=" baseline ", start=False)
    assert named.name == "baseline" and named.params["run_name"] == "baseline"
    assert named.experiment_id == params.experiment_id(named.data_fingerprint)


def test_a_bad_user_name_is_refused_with_the_rule(shapes_workspace):
    ws = shapes_workspace
    params = resolve_params(ws, overrides=parse_overrides(["lr=0.03"]))
    with pytest.raises(CockpitError, match=r"--name '\.\./x' is not allowed .*use 1-64"):
        submit_train(ws, "shapes", params, name="../x", start=False)
    assert JobQueue(ws).jobs() == []


def test_a_tune_job_is_named_by_its_study_or_by_the_user(shapes_workspace):
    from core.jobs.submit import submit_tune
    from tests.core.training.conftest import TINY

    ws = shapes_workspace
    base = ", ".join(f"{k}: {v}" for k, v in (item.split("=") for item in TINY))
    ws.optuna_params_file.write_text(
        "study: {name: sweep, n_trials: 2, pruner: none}\n"
        f"base_params: {{{base}}}\n"
        "search_space:\n  optimizer: {type: categorical, choices: [adam, sgd]}\n"
    )
    [plain], _warnings = submit_tune(ws, "shapes", start=False)
    assert plain.name == "tune-sweep"
    [named], _warnings = submit_tune(ws, "shapes", name="optimiser sweep", start=False)
    # the study's parent run is named by it (core.tuning.study reads run_name)
    assert named.name == "optimiser sweep" and named.params["run_name"] == "optimiser sweep"
    with pytest.raises(CockpitError, match="--name 'a<b' is not allowed"):
        submit_tune(ws, "shapes", name="a<b", start=False)
    assert len(JobQueue(ws).jobs()) == 2
