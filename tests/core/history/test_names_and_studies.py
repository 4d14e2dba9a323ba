"""History rows named by what differs, trials nested under their study, a tune job's row
with its best trial's metrics, and one number format."""

from __future__ import annotations

from core.history import (
    PARAM_PREFIX,
    differing_param_keys,
    format_metric,
    list_entries,
    nest_trials,
    sort_entries,
)
from tests.core.history.recorded_runs import STUDY, write_recorded_runs


def test_rows_are_named_and_trials_nest_under_their_tune_job(workspace):
    made = write_recorded_runs(workspace)
    entries = list_entries(workspace)
    by_id = {e.id: e for e in entries}
    first = by_id[made["jobs"][0]]
    assert first.name == "epochs=6"  # lr, batch size and optimiser are the defaults
    assert by_id[made["jobs"][3]].name == "lr=0.01 bs=64 opt=sgd epochs=8"
    assert len({by_id[j].name for j in made["jobs"]}) == 12  # a dozen runs, told apart

    tree = nest_trials(entries)
    parents = [parent.id for parent, _children in tree]
    assert made["tune_job"] in parents and not set(made["trials"]) & set(parents)
    tune, trials = next(item for item in tree if item[0].id == made["tune_job"])
    assert {t.experiment_id for t in trials} == set(made["trials"])
    assert sorted(t.name for t in trials) == [f"trial {n}" for n in range(5)]
    best = max(trials, key=lambda t: t.metrics["valid_acc"])
    assert tune.metrics == best.metrics and tune.best_trial == best.trial
    assert tune.name == f"tune-{STUDY}" and tune.study == STUDY


def test_trials_without_a_job_get_a_study_row(workspace):
    made = write_recorded_runs(workspace)
    entries = [e for e in list_entries(workspace) if e.id != made["tune_job"]]
    tree = nest_trials(entries)
    study, trials = next(item for item in tree if item[0].id == f"study:{STUDY}")
    assert len(trials) == 5 and study.kind == "tune" and study.name == f"study {STUDY}"
    assert study.metrics["valid_acc"] == max(t.metrics["valid_acc"] for t in trials)


def test_parameter_columns_differ_and_sort(workspace):
    made = write_recorded_runs(workspace)
    trainings = [e for e in list_entries(workspace) if e.id in made["jobs"]]
    assert differing_param_keys(trainings) == ["batch_size", "lr", "max_epochs", "optimizer"]
    ordered = sort_entries(trainings, PARAM_PREFIX + "lr")
    assert [e.value("param:lr") for e in ordered] == sorted(e.params["lr"] for e in trainings)


def test_one_metric_format():
    assert format_metric(0.10958) == "0.1096" and format_metric(None, "-") == "-"


def test_the_mlflow_run_is_named_like_the_job(history):
    from core.jobs.queue import JobQueue
    from core.training.tracking import tracking_client

    ws = history.workspace
    entry = next(e for e in list_entries(ws) if e.id == history.slow_job)
    job = JobQueue(ws).get(history.slow_job)
    assert job.name == entry.name and job.name.startswith("lr=0.003 bs=8 size=16 epochs=3")
    run = tracking_client(ws).get_run(entry.run_id)
    assert run.info.run_name == job.name
