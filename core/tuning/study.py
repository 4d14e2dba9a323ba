"""Run an Optuna study whose trials are trainings.

- The study lives in ``optuna.db`` (or any storage URL); a resubmitted study continues
  until ``n_trials`` trials have completed or been pruned in total. Trials of a killed
  process are failed by Optuna's heartbeat and retried once with the same parameters.
- Each trial is a normal training (experiment id, checkpoints, resume) recorded as MLflow
  child run ``trial_{n}`` of one parent run; it reports every epoch and may be pruned.
- At the end the parent run gets the best parameters (``best_params.yaml``), best value,
  counts, duration, parameter importance and Optuna's figures; only the best trial's model
  is packaged and registered as ``{theme}_model``, from the parent run.
- Several workers (``n_parallel`` queue jobs, here or on a Ray cluster) may share a study
  through its storage (PostgreSQL for a lab): each has its own sampler seed (TPE with a
  constant liar), none starts a trial once the done and running trials reach
  ``n_trials`` (the check and the start of the next trial are one step under a file lock
  in the study's output folder, so exactly ``n_trials`` run), and the last one to finish
  summarises; the same lock makes the parent run, the seed and the summary happen once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
import yaml

from core.config import resolve_params
from core.config.optuna_params import Categorical, FloatRange, OptunaParams
from core.errors import CockpitError
from core.fileio import atomic_write_text, load_yaml_mapping
from core.hashing import canonicalize
from core.mlflow_filter import model_versions
from core.names import check_name, inside
from core.processes import process_alive, this_host
from core.settings import store_problem
from core.tuning.control import StopWhenRequested
from core.tuning.results import PARENT_RUN_ATTR
from core.tuning.selection import (
    build_pruner,
    build_sampler,
    choose_pruner,
    choose_sampler,
    recommend_trials,
)
from core.workspace import Workspace

Echo = Callable[[str], None]


@dataclass
class StudyOutcome:
    study_name: str
    storage_url: str
    parent_run_id: str | None
    sampler: str
    pruner: str
    counts: dict[str, int] = field(default_factory=dict)
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_trial: int | None = None
    best_run_id: str | None = None  # the MLflow child run of the best trial
    best_params_file: Path | None = None
    model_version: str | None = None
    trials_before: int = 0  # completed or pruned when this run began
    trials_run: int = 0  # trials this run started (retries included)


SAMPLER_SEED_ATTR = "sampler_seed"
SQLITE_BUSY_TIMEOUT_S = 60
SUMMARISED_ATTR = "summarised_trials"  # the done trials the last summary covered
WORKER_SEED_STRIDE = 1_000_003  # worker k's sampler seed: the study's + k * this


def _trials(count: int) -> str:
    return f"{count} trial{'' if count == 1 else 's'}"


def study_sampler_seed(study: Any, seed: int) -> int:
    """The seed this study's sampler starts from, recorded in the study's user attrs.

    A new study derives it from ``seed`` and its name, so two studies of the same search
    space do not suggest the same trials; a resumed study reads it back (a study from
    before this was recorded kept ``seed``), so the same history gives the same run.
    """
    recorded = study.user_attrs.get(SAMPLER_SEED_ATTR)
    if isinstance(recorded, int):
        return recorded
    if study.get_trials(deepcopy=False):
        chosen = seed
    else:
        digest = hashlib.sha256(f"{seed}:{study.study_name}".encode()).hexdigest()
        chosen = int(digest[:7], 16)  # leaves room below 2**32 for the trial offset
    study.set_user_attr(SAMPLER_SEED_ATTR, chosen)
    return chosen


def _suggest(trial: Any, name: str, dim: Any) -> Any:
    if isinstance(dim, Categorical):
        return trial.suggest_categorical(name, list(dim.choices))
    if isinstance(dim, FloatRange):
        return trial.suggest_float(name, dim.low, dim.high, log=dim.log, step=dim.step)
    return trial.suggest_int(name, dim.low, dim.high, step=dim.step, log=dim.log)


def fixed_parameters(
    workspace: Workspace, config: OptunaParams, params_file: Path | None
) -> dict[str, Any]:
    """params.yaml (or ``params_file``) overlaid with the study's ``base_params``."""
    path = params_file or workspace.params_file
    values = load_yaml_mapping(path, "parameter file", missing_ok=params_file is None)
    merged = {**values, **config.base_params}
    # the parent run's name: the parameter file's run_name wins; the study's base_params
    # name it only where the file has none
    if values.get("run_name"):
        merged["run_name"] = values["run_name"]
    return merged


def _storage(url: str) -> Any:
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    engine: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # workers sharing a study on one SQLite file wait for each other's writes
        # instead of failing with "database is locked"
        engine = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    # a trial whose process died (no heartbeat for grace_period) is failed and run again
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # optuna >= 4.9
        retry = {
            "heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=1
            )
        }
    else:
        retry = {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=1)}
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine, heartbeat_interval=20, grace_period=60, **retry
            )
        except SQLAlchemyError as exc:
            # another worker of the study creating the same new storage at this moment
            if attempt == 4:
                raise store_problem("optuna_storage", url, getattr(exc, "orig", exc)) from exc
            time.sleep(0.5 + attempt)
        except Exception as exc:
            raise store_problem("optuna_storage", url, exc) from exc
    raise AssertionError("unreachable")


def _parent_run(
    workspace: Workspace,
    study: Any,
    theme: str,
    config: OptunaParams,
    run_name: str,
    settings: dict[str, Any],
) -> str:
    """The study's parent run: created once, with the study's settings as parameters and
    the exact search configuration as ``optuna_params.yaml``."""
    from mlflow.entities import Param

    from core.training.tracking import experiment_for_theme, tracking_client

    existing = study.user_attrs.get(PARENT_RUN_ATTR)
    if existing:
        return existing
    client = tracking_client(workspace)
    experiment = experiment_for_theme(client, workspace, theme)
    run = client.create_run(
        experiment,
        run_name=run_name,
        tags={
            "kind": "tuning",
            "study_name": study.study_name,
            "theme": theme,
            "optuna_storage": workspace.optuna_storage_url,
        },
    )
    params = {
        "search_space": json.dumps({k: v.model_dump() for k, v in config.search_space.items()})[
            :6000
        ],
        **{key: str(value)[:6000] for key, value in settings.items()},
    }
    client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in params.items()])
    folder = _study_folder(workspace, study.study_name)
    settings_file = folder / "optuna_params.yaml"
    atomic_write_text(
        settings_file,
        "# the search configuration this study ran with\n"
        + yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False),
    )
    client.log_artifact(run.info.run_id, str(settings_file))
    study.set_user_attr(PARENT_RUN_ATTR, run.info.run_id)
    return run.info.run_id


def _study_folder(workspace: Workspace, study_name: str) -> Path:
    folder = inside(
        workspace.root / "output" / "studies",
        workspace.root / "output" / "studies" / study_name,
        "study name",
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class TrialLog:
    """Trial lines in the tune job's ``metrics.jsonl`` for the live view: ``trial_start``
    before a trial's training (its epoch lines follow), ``trial`` when it ended, with its
    value (a pruned trial: its last reported value), state, parameters and the study's
    direction. Earlier trials of a resumed study are written again at the start."""

    def __init__(self, path: Path | None, metric: str, direction: str, n_trials: int) -> None:
        self.path, self.metric, self.direction, self.n_trials = path, metric, direction, n_trials

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({**record, "time": round(time.time(), 3)}) + "\n")

    def started(self, number: int, params: dict[str, Any]) -> None:
        self._write({"kind": "trial_start", "trial": number, "params": params})

    def __call__(self, _study: Any, trial: Any) -> None:
        state = trial.state.name.lower()
        if state not in ("complete", "pruned", "fail"):
            return
        value = trial.value
        if value is None and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        self._write(
            {
                "kind": "trial",
                "number": trial.number,
                "value": value,
                "state": state,
                "params": trial.params,
                "n_trials": self.n_trials,
                "metric": self.metric,
                "direction": self.direction,
            }
        )


def run_study(
    workspace: Workspace,
    theme: str,
    config: OptunaParams,
    *,
    params_file: Path | None = None,
    fixed: dict[str, Any] | None = None,
    storage_url: str | None = None,
    study_name: str | None = None,
    n_trials: int | None = None,
    timeout: float | None = None,
    job_id: str | None = None,
    echo: Echo = print,
    augments: dict[str, Any] | None = None,
    seconds_per_trial: float | None = None,
    worker: int = 0,
    workers: int = 1,
) -> StudyOutcome:
    """``augments``: the tune job's frozen augmentations (None: the workspace's file).
    ``seconds_per_trial``: the cost measured on the theme's earlier runs at submit (for the
    recorded trial recommendation). ``worker`` of ``workers``: this process is one of
    several sharing the study (parallel queue jobs, on this machine or a Ray cluster): its
    sampler seed is its own, it starts no trial once the finished and running trials of
    all workers reach ``n_trials``, and the last worker to finish summarises the study."""
    import optuna
    from optuna.trial import TrialState

    from core.training.run import TrialHooks, train_experiment

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stop = StopWhenRequested(echo)  # `cockpit study stop` asked after this: end after a trial
    n_trials = n_trials or config.study.n_trials
    timeout = timeout if timeout is not None else config.study.timeout
    storage_url = storage_url or workspace.optuna_storage_url
    study_name = check_name("study name", study_name or config.study.name)
    metric = config.study.metric
    fixed = fixed if fixed is not None else fixed_parameters(workspace, config, params_file)
    base = resolve_params(
        workspace,
        base=fixed,
        base_label="tuning base",
        read_params_file=False,
        augments=augments,
    )
    from core.training.builder import ExperimentBuilder
    from core.tuning.validation import validate_study

    snapshot = ExperimentBuilder(workspace, base, theme).data_snapshot()
    checked = validate_study(config, base, snapshot, "optuna_params.yaml")
    checked.raise_errors()
    for warning in checked.warnings:
        echo(f"warning: {warning}")

    from core.tuning.profile import study_profile

    profile = study_profile(workspace, config, base, snapshot)
    sampler = choose_sampler(config, n_trials, profile)
    pruner = choose_pruner(config, n_trials, profile)
    recommended = recommend_trials(config, seconds_per_trial, profile)
    echo(f"study {study_name!r}: {n_trials} trials, {metric} ({config.study.direction})")
    echo(f"profile: {profile.describe()}")
    echo(f"sampler: {sampler.reason}")
    echo(f"pruner: {pruner.reason}")
    study = optuna.create_study(
        study_name=study_name,
        storage=_storage(storage_url),
        load_if_exists=True,
        direction=config.study.direction,
        pruner=build_pruner(pruner, profile),
    )
    settings = {
        "study_name": study_name,
        "metric": metric,
        "direction": config.study.direction,
        "n_trials": n_trials,
        "timeout": timeout,
        "workers": workers,
        "sampler": sampler.name,
        "sampler_reason": sampler.reason,
        "pruner": pruner.name,
        "pruner_reason": pruner.reason,
        **profile.as_dict(),
        "seconds_per_trial": seconds_per_trial,
        "recommended_trials": int(recommended.name),
        "recommended_reason": recommended.reason,
    }
    # the workers of a study take turns here: one sampler seed, one parent run, and a
    # dead worker's trial retried once
    with _study_lock(workspace, study_name):
        # a resumed study must not replay the suggestions of its first run: offset the
        # seed by the trials so far (still reproducible for the same history)
        study.sampler = build_sampler(
            sampler,
            config,
            study_sampler_seed(study, int(base.values["seed"]))
            + len(study.get_trials(deepcopy=False))
            + worker * WORKER_SEED_STRIDE,
            parallel=workers > 1,
        )
        study.set_user_attr("theme", theme)  # for the results panel and `cockpit study list`
        study.set_user_attr("metric", metric)
        parent = _parent_run(
            workspace,
            study,
            theme,
            config,
            base.values["run_name"] or f"tune-{study_name}",
            settings,
        )
        _fail_orphaned_trials(study, echo)
        # a worker that died on another machine: failed (and retried once) when its
        # heartbeat is older than the grace period, not only when a trial starts
        optuna.storages.fail_stale_trials(study)
    per_epoch = metric.replace("test_", "valid_")
    log_path = workspace.logs_dir / f"{job_id}.metrics.jsonl" if job_id else None
    trial_log = TrialLog(log_path, metric, config.study.direction, n_trials)
    for earlier in study.get_trials(deepcopy=False):
        trial_log(study, earlier)

    def objective(trial: Any) -> float:
        trial.set_user_attr(
            "worker",
            {"host": this_host(), "pid": os.getpid(), "started": psutil.Process().create_time()},
        )
        values = {name: _suggest(trial, name, dim) for name, dim in config.search_space.items()}
        params = resolve_params(
            workspace,
            base={**fixed, **values},
            base_label=f"trial {trial.number}",
            read_params_file=False,
            augments=base.augments,
        )
        if "max_epochs" in values:
            # trials that differ only in max_epochs must not share (and top up) weights
            params = replace(params, hashed_keys=("max_epochs",))

        def report(metrics: dict[str, float], epoch: int) -> None:
            if per_epoch in metrics:
                trial.report(metrics[per_epoch], epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")

        hooks = TrialHooks(
            run_name=f"trial_{trial.number}",
            tags={
                "mlflow.parentRunId": parent,
                "optuna_trial": str(trial.number),
                "study_name": study_name,
            },
            on_epoch=report,
        )
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        echo(f"trial {trial.number}: {shown}")
        trial_log.started(trial.number, values)
        outcome = train_experiment(
            workspace,
            theme,
            params,
            job_id=job_id,
            trial=hooks,
            echo=lambda line: echo(f"  {line}"),
        )
        trial.set_user_attr("experiment_id", outcome.experiment_id)
        if outcome.run_id:
            trial.set_user_attr("mlflow_run_id", outcome.run_id)
        if metric not in outcome.metrics:
            raise CockpitError(
                f"metric {metric} was not measured (a {metric.split('_')[0]} "
                "split needs images); choose another metric"
            )
        echo(f"trial {trial.number}: {metric} = {outcome.metrics[metric]:.4f}")
        return outcome.metrics[metric]

    started = time.time()
    counted = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(study.get_trials(deepcopy=False, states=counted))
    ran = 0

    enough = EnoughTrials(n_trials, _study_lock(workspace, study_name))

    def counting_objective(trial: Any) -> float:
        nonlocal ran
        enough.started()
        ran += 1
        return objective(trial)

    enough.hold()  # until this worker's first trial runs (or it starts none)
    try:
        if done < n_trials and enough.reached(study):
            echo(
                f"{done} trial(s) done and the other workers run the rest of the {n_trials}: "
                "nothing to start"
            )
        elif done < n_trials:
            echo(f"{done} trial(s) already done; running up to {n_trials - done} more")
            if workers > 1:
                echo(f"worker {worker + 1} of {workers} sharing the study")
            study.optimize(
                counting_objective,
                timeout=timeout,
                catch=(CockpitError,),
                callbacks=[enough, trial_log, stop],
            )
        elif workers > 1:
            echo(f"the study's workers have run its {n_trials} trials: nothing to run")
        else:
            echo(
                f"study {study_name!r} already has {done} of {n_trials} trials done: nothing "
                f"to run; give --n-trials above {done} to run more"
            )
    finally:
        enough.release()  # held by no one once no trial of this worker follows
    now_done = len(study.get_trials(deepcopy=False, states=counted))
    echo(
        f"ran {_trials(ran)} in this run; the study had {_trials(done)} done before and has "
        f"{now_done} of {n_trials} now"
    )
    outcome = StudyOutcome(
        study_name,
        storage_url,
        parent,
        sampler.name,
        pruner.name,
        trials_before=done,
        trials_run=ran,
    )
    with _study_lock(workspace, study_name):  # one summary and registration at a time
        running = _running_elsewhere(study)
        if running:
            echo(
                f"{_trials(len(running))} ({', '.join(map(str, running))}) still "
                "running in other workers: the last of them summarises the study"
            )
            return outcome
        now = len(study.get_trials(deepcopy=False, states=counted))
        if workers > 1 and study.user_attrs.get(SUMMARISED_ATTR) == now:
            # another worker summarised these very trials (a worker started after the
            # others had run them all); a worker that died before its summary has not
            echo(f"another worker summarised the study's {now} trials")
            return outcome
        summarise(workspace, theme, study, outcome, metric, time.time() - started, echo)
        study.set_user_attr(SUMMARISED_ATTR, now)
    return outcome


class EnoughTrials:
    """Optuna callback: stop once the trials done (complete or pruned) and those running
    in any worker reach ``n_trials``; the running ones will finish (or be retried), so the
    study ends at ``n_trials`` without every worker starting one trial too many.

    With ``lock`` (the study's file lock, shared by the workers on the workspace) the
    check and the start of the next trial are one step: the callback takes the lock, and
    the objective, which runs once Optuna has created the trial as running, lets it go
    (``started``); so two workers cannot both see one trial missing and both start one.
    ``release()`` after ``optimize`` frees it when no trial followed (stop, timeout)."""

    def __init__(self, n_trials: int, lock: Any = None) -> None:
        self.n_trials = n_trials
        self.lock = lock
        self.held = False

    def reached(self, study: Any) -> bool:
        from optuna.trial import TrialState

        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        return len(study.get_trials(deepcopy=False, states=states)) >= self.n_trials

    def hold(self) -> None:
        if self.lock is not None and not self.held:
            self.lock.acquire()
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()

    started = release  # the objective's first step: its trial now counts as running

    def __call__(self, study: Any, _trial: Any) -> None:
        self.hold()
        if self.reached(study):
            self.release()
            study.stop()


def _running_elsewhere(study: Any) -> list[int]:
    """Numbers of the study's trials that run in a live process (this one runs none
    now): a trial of a dead process of this machine does not count."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [trial.number for trial in running if not _orphaned_here(trial)]


def _orphaned_here(trial: Any) -> bool:
    """Whether a running trial's worker was a process of this machine that is gone."""
    worker = trial.user_attrs.get("worker") or {}
    if worker.get("host") != this_host():
        return False
    return not process_alive(worker.get("pid"), worker.get("started"))


def _study_lock(workspace: Workspace, study_name: str) -> Any:
    """An OS file lock in the study's output folder (on the workspace every worker
    shares), held while a worker creates the parent run or summarises."""
    from filelock import FileLock

    return FileLock(str(_study_folder(workspace, study_name) / ".study.lock"))


def summarise(
    workspace: Workspace,
    theme: str,
    study: Any,
    outcome: StudyOutcome,
    metric: str,
    seconds: float,
    echo: Echo,
) -> None:
    """Best parameters, counts, importance and figures on the parent run; register the
    best trial's model."""
    from optuna.trial import TrialState

    from core.training.tracking import tracking_client

    trials = study.get_trials(deepcopy=False)
    outcome.counts = {
        state.name.lower(): sum(1 for t in trials if t.state == state)
        for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    }
    echo("trials: " + ", ".join(f"{n} {k}" for k, n in outcome.counts.items()))
    client = tracking_client(workspace)
    parent = outcome.parent_run_id
    metrics = {f"trials_{k}": float(v) for k, v in outcome.counts.items()}
    metrics["optimisation_seconds"] = seconds
    if outcome.counts["complete"] == 0:
        for key, value in metrics.items():
            client.log_metric(parent, key, value)
        echo("no trial completed: nothing to register")
        echo(f"MLflow: parent run {parent}")
        _write_runs(workspace, study.study_name, outcome)
        return
    best = study.best_trial
    outcome.best_value, outcome.best_trial = best.value, best.number
    experiment_id = best.user_attrs.get("experiment_id")
    from core.training.restore import restore_experiment

    best_params, _theme, _snapshot = restore_experiment(workspace, experiment_id)
    outcome.best_params = canonicalize(best_params.values, base_dir=workspace.root)
    outcome.best_run_id = best.user_attrs.get("mlflow_run_id")
    folder = _study_folder(workspace, study.study_name)
    text = (
        f"# best parameters of study {study.study_name} (trial {best.number}, "
        f"{metric} = {best.value:.6g})\n" + yaml.safe_dump(outcome.best_params, sort_keys=False)
    )
    best_file = inside(
        workspace.configs_dir,
        workspace.configs_dir / f"best_params_{study.study_name}.yaml",
        "study name",
    )
    atomic_write_text(best_file, text)
    atomic_write_text(folder / "best_params.yaml", text)
    outcome.best_params_file = best_file
    metrics.update({"best_value": float(best.value), "best_trial": float(best.number)})
    for key, value in metrics.items():
        client.log_metric(parent, key, value)
    for name, value in best.params.items():
        client.log_param(parent, f"best_{name}", str(value))
    client.log_artifact(parent, str(folder / "best_params.yaml"))
    for path in _figures(study, folder, outcome.counts["complete"]):
        client.log_artifact(parent, str(path), "figures")
    echo(
        f"best trial {best.number}: {metric} = {best.value:.4f} "
        f"({', '.join(f'{k}={v}' for k, v in best.params.items())})"
    )
    policy = str(best_params.values["registration"])
    outcome.model_version = _register_best(
        workspace, theme, experiment_id, parent, best.number, policy
    )
    from core.training.packaging import registry_decision

    _version, decision = registry_decision(workspace, parent)
    if decision:
        echo(f"model registry: {decision}")
    echo(f"MLflow: parent run {parent}; best trial's run {outcome.best_run_id or '-'}")
    _write_runs(workspace, study.study_name, outcome)
    echo(f"best parameters written to {workspace.relative(best_file)}; train them fully with:")
    echo(f"  cockpit submit train --theme {theme} --params {workspace.relative(best_file)}")


RUNS_FILE = "mlflow_runs.json"  # in output/studies/<study>/: read by the history


def _write_runs(workspace: Workspace, study_name: str, outcome: StudyOutcome) -> None:
    """The study's MLflow runs, where the history finds them for the tune job's row."""
    info = {
        "parent_run_id": outcome.parent_run_id,
        "best_run_id": outcome.best_run_id,
        "best_trial": outcome.best_trial,
    }
    atomic_write_text(_study_folder(workspace, study_name) / RUNS_FILE, json.dumps(info) + "\n")


def _figures(study: Any, folder: Path, completed: int) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import optuna.visualization.matplotlib as figures
    from matplotlib import pyplot

    plots = {"optimization_history": figures.plot_optimization_history}
    if completed >= 2:
        plots["param_importances"] = figures.plot_param_importances
        plots["parallel_coordinate"] = figures.plot_parallel_coordinate
    written = []
    for name, draw in plots.items():
        try:
            with warnings.catch_warnings():  # "experimental" notices and axis-limit chatter
                warnings.simplefilter("ignore")
                axes = draw(study)
        except (ValueError, RuntimeError):
            continue  # e.g. importance of a single-value parameter
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        path = folder / f"{name}.png"
        figure.savefig(path, bbox_inches="tight")
        pyplot.close(figure)
        written.append(path)
    return written


def _fail_orphaned_trials(study: Any, echo: Echo) -> None:
    """Trials left RUNNING by a dead process of this machine fail now and are queued again
    with the same parameters (Optuna's heartbeat would do it only after its grace period)."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not _orphaned_here(trial):
            continue
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
        echo(f"trial {trial.number}: its process is gone; failed and queued again")


def _register_best(
    workspace: Workspace,
    theme: str,
    experiment_id: str,
    parent: str,
    trial_number: int,
    policy: str,
) -> str | None:
    from core.training.checkpoints import CheckpointManager
    from core.training.packaging import (
        export_model,
        log_model_to_run,
        registered_name,
        registry_decision,
    )
    from core.training.restore import load_trained
    from core.training.tracking import tracking_client

    client = tracking_client(workspace)
    name = registered_name(theme)
    for version in model_versions(client, name):
        if version.run_id == parent and version.tags.get("best_trial") == str(trial_number):
            return str(version.version)  # a resubmitted, finished study registers nothing new
    context, _builder = load_trained(workspace, experiment_id)
    packaged = export_model(context)
    log_model_to_run(
        workspace,
        theme,
        parent,
        {
            "folder": str(packaged.folder),
            "weights_digest": packaged.weights_digest,
            "experiment_id": experiment_id,
            "metrics": CheckpointManager(workspace.experiment_dir(experiment_id))
            .state()
            .final_metrics,
            "register": policy,
        },
    )
    version, _reason = registry_decision(workspace, parent)
    if not version:  # the policy kept it out, or these weights were a version already
        return None
    client.set_model_version_tag(name, version, "best_trial", str(trial_number))
    return str(version)
