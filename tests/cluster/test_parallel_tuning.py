"""A study shared by parallel workers (``n_parallel`` queue jobs running side by side) on
every store backend: trials overlap in time, each worker samples its own points, the
study ends at ``n_trials``, one parent run, one summary and one registered version, and
no "database is locked"."""

from __future__ import annotations

import pytest

from core.jobs.queue import JobQueue
from core.jobs.runner import Runner
from tests.cluster.conftest import BACKENDS
from tests.cluster.studies import write_study

pytestmark = pytest.mark.filterwarnings("ignore")


def cli(ws, *args):
    from click.testing import CliRunner

    from cockpit.cli import cli as main

    return CliRunner().invoke(main, ["-w", str(ws.root), *args])

N_TRIALS = 4
WORKERS = 2


def _study_file(ws, n_trials: int = N_TRIALS) -> None:
    write_study(
        ws, f"name: shared, n_trials: {n_trials}, n_parallel: {WORKERS}, pruner: none, sampler: tpe"
    )


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_parallel_workers_share_one_study_and_summarise_once(backend, shapes_workspace):
    import optuna
    from mlflow import MlflowClient
    from optuna.trial import TrialState

    ws = shapes_workspace
    _study_file(ws)
    # as a user on a machine without GPUs: the submit says how to run the workers side by
    # side, and that command does
    queued = cli(ws, "submit", "tune", "--theme", "shapes", "--no-runner")
    assert queued.exit_code == 0, queued.output
    advice = f"start `cockpit runner --cpu-slots {WORKERS}`"
    assert advice in queued.output
    jobs = JobQueue(ws).pending()
    assert sorted(job.args["worker"] for job in jobs) == list(range(WORKERS))  # n_parallel
    ran = cli(ws, "runner", "--cpu-slots", str(WORKERS))
    assert ran.exit_code == 0, ran.output

    logs = [(ws.logs_dir / f"{job.id}.log").read_text() for job in jobs]
    for job, log in zip(jobs, logs, strict=True):
        assert JobQueue(ws).get(job.id).state == "finished", log
        assert "database is locked" not in log
    study = optuna.load_study(study_name="shared", storage=ws.optuna_storage_url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    # a worker starts no trial once done + running reach n_trials: exactly n_trials ran
    assert len(done) == N_TRIALS == len(study.trials), [t.state for t in study.trials]
    # both workers ran trials, at the same time, and sampled different points
    by_worker: dict[int, list] = {}
    for trial in done:
        by_worker.setdefault(trial.user_attrs["worker"]["pid"], []).append(trial)
    assert len(by_worker) == WORKERS, {pid: len(t) for pid, t in by_worker.items()}
    first, second = (sorted(t, key=lambda x: x.number) for t in by_worker.values())
    assert any(
        a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete
        for a in first
        for b in second
    ), "the workers' trials never overlapped"
    assert len({t.params["lr"] for t in done}) == len(done)

    # one parent run, summarised by the last worker to finish (by both only where they
    # ended at the very same moment); one registered version
    summaries = [log for log in logs if "best trial" in log]
    assert len(summaries) == 1 or not any("still running in other" in log for log in logs)
    assert summaries, logs
    # the workspace's tracking store and registry (an earlier test of this process may have
    # left MLflow's default registry pointing at its own workspace)
    client = MlflowClient(ws.mlflow_tracking_uri, ws.mlflow_tracking_uri)
    parents = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="tags.kind = 'tuning' and tags.study_name = 'shared'",
    )
    assert len(parents) == 1
    assert parents[0].data.params["workers"] == str(WORKERS)
    assert parents[0].data.metrics["best_value"] == pytest.approx(study.best_value)
    children = client.search_runs(
        [parents[0].info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parents[0].info.run_id}'",
    )
    states = [(t.number, t.state.name) for t in study.trials]
    assert len(children) == len(done), (states, [c.info.run_name for c in children], logs)
    versions = client.search_model_versions("name='shapes_model'")
    assert [v.run_id for v in versions] == [parents[0].info.run_id]


def test_a_worker_that_starts_after_the_others_ran_every_trial_adds_nothing(shapes_workspace):
    """One CPU slot: the workers run one after the other; the first runs every trial and
    summarises, the second finds them done, runs nothing and registers nothing."""
    from core.jobs.submit import submit_tune
    from core.training.tracking import tracking_client

    ws = shapes_workspace
    _study_file(ws, n_trials=2)
    jobs, _warnings = submit_tune(ws, "shapes", start=False)
    assert len(jobs) == WORKERS
    assert Runner(ws, echo=lambda _l: None, poll_s=0.05, cpu_slots=1).run() == 0
    first, second = ((ws.logs_dir / f"{job.id}.log").read_text() for job in jobs)
    assert "best trial" in first and "ran 2 trials" in first, first
    assert "the study's workers have run its 2 trials: nothing to run" in second, second
    assert "another worker summarised the study's 2 trials" in second
    assert "best trial" not in second
    assert len(tracking_client(ws).search_model_versions("name='shapes_model'")) == 1
