"""What tuning produced, read from the Optuna storage: the studies, their trials, the
optimisation history, parameter importance and the best parameters.

Reads only: running studies keep writing while these functions read. Nothing here imports
torch or MLflow; Optuna is imported only when a storage exists, so a workspace without
studies costs nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib.util
import math
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import CockpitError
from core.settings import is_sqlite_url, store_problem
from core.workspace import Workspace

#: study user attributes written by run_study (core.tuning.study)
THEME_ATTR = "theme"
METRIC_ATTR = "metric"
PARENT_RUN_ATTR = "mlflow_parent_run_id"  # set by the study when it creates its parent run
#: when a stop was asked for (seconds since the epoch), see core.tuning.control
STOP_ATTR = "stop_requested"
STATES = ("complete", "pruned", "fail", "running", "waiting")


@dataclass(frozen=True)
class StudySummary:
    name: str
    direction: str  # "maximize" | "minimize"
    theme: str | None
    metric: str | None
    counts: dict[str, int]  # STATES -> number of trials
    best_value: float | None
    best_trial: int | None
    started: dt.datetime | None
    last_update: dt.datetime | None
    stop_requested: float | None
    stopping: bool  # a stop was asked for and a trial that started before it still runs
    parent_run_id: str | None = None  # the study's MLflow parent run
    best_run_id: str | None = None  # the MLflow child run of the best trial

    @property
    def n_trials(self) -> int:
        return sum(self.counts.values())

    @property
    def running(self) -> bool:
        return self.counts.get("running", 0) > 0


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # one of STATES
    value: float | None
    duration: float | None  # seconds; a running trial's so far
    started: dt.datetime | None
    params: dict[str, Any]
    experiment_id: str | None
    # the values the trial reported while it trained (Optuna's intermediate values), by step
    intermediate: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class ParamAxis:
    """One parameter's range over all trials, for axes that compare trials."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    def position(self, value: Any) -> float:
        """``value`` on this axis scaled to 0..1 (log axes in log space, choices by index)."""
        if self.kind == "categorical":
            index = self.choices.index(value)
            return 0.5 if len(self.choices) == 1 else index / (len(self.choices) - 1)
        low, high, value = float(self.low), float(self.high), float(value)
        if self.log and low > 0 and value > 0:
            low, high, value = math.log10(low), math.log10(high), math.log10(value)
        return 0.5 if high == low else (value - low) / (high - low)


@dataclass(frozen=True)
class History:
    numbers: list[int]
    values: list[float]
    best_so_far: list[float]


@dataclass(frozen=True)
class StudyDetails:
    summary: StudySummary
    trials: list[TrialRow]
    axes: list[ParamAxis]
    history: History
    importance: dict[str, float] = field(default_factory=dict)  # largest first
    importance_note: str = ""  # why there is no importance, or which evaluator gave it

    @property
    def complete(self) -> list[TrialRow]:
        return [t for t in self.trials if t.state == "complete" and t.value is not None]


@dataclass(frozen=True)
class BestTrial:
    study_name: str
    number: int
    value: float
    theme: str | None
    tuned: dict[str, Any]  # the values the sampler chose
    params: dict[str, Any]  # every parameter the trial trained with (its experiment record)
    experiment_id: str | None


_storages: dict[str, Any] = {}
_storages_lock = threading.Lock()


def open_storage(workspace: Workspace, storage_url: str | None = None) -> Any | None:
    """The Optuna storage of the workspace (or ``storage_url``); None when the workspace's
    ``optuna.db`` does not exist yet (no study ever ran), so nothing gets created."""
    url = storage_url or workspace.optuna_storage_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or not Path(path).exists() or _being_created(Path(path)):
            return None
    with _storages_lock:
        if url not in _storages:
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            try:
                if not is_sqlite_url(url) and not _server_storage_exists(url):
                    return None  # no study ever ran on this server storage
                # a reader never creates tables: that is the tune job's, and two processes
                # creating the schema at once make one of them fail
                _storages[url] = optuna.storages.RDBStorage(url, skip_table_creation=True)
            except CockpitError:
                raise
            except Exception as exc:
                if not is_sqlite_url(url):
                    raise store_problem("optuna_storage", url, getattr(exc, "orig", exc)) from exc
                raise CockpitError(
                    f"Optuna storage {url} cannot be opened ({exc}); check the file or the "
                    "--storage URL"
                ) from exc
        return _storages[url]


def _server_storage_exists(url: str) -> bool:
    """Whether the Optuna tables exist on the server of ``url`` (read-only look)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        return inspect(engine).has_table("version_info")
    finally:
        engine.dispose()


def _being_created(path: Path) -> bool:
    """True while a tune job is still creating the storage's schema (no version row yet);
    an unreadable file is left to RDBStorage to report."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)) as db:
            return db.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 0
    except sqlite3.OperationalError as exc:
        return "no such table" in str(exc)
    except sqlite3.DatabaseError:
        return False


def _state_name(trial: Any) -> str:
    return trial.state.name.lower()


def _local_time(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _trials(storage: Any, name: str) -> list[Any]:
    return storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False)


def _summary(frozen: Any, trials: list[Any]) -> StudySummary:
    attrs = frozen.user_attrs
    direction = frozen.directions[0].name.lower()
    counts = dict.fromkeys(STATES, 0)
    for trial in trials:
        counts[_state_name(trial)] = counts.get(_state_name(trial), 0) + 1
    complete = [t for t in trials if _state_name(t) == "complete" and t.values]
    sign = -1.0 if direction == "maximize" else 1.0
    best = min(complete, key=lambda t: (sign * t.values[0], t.number), default=None)
    moments = [m for t in trials for m in (t.datetime_start, t.datetime_complete) if m]
    stop = attrs.get(STOP_ATTR)
    stopping = bool(stop) and any(
        _state_name(t) == "running" and (_local_time(t.datetime_start) or 0) <= stop for t in trials
    )
    return StudySummary(
        name=frozen.study_name,
        direction=direction,
        theme=attrs.get(THEME_ATTR),
        metric=attrs.get(METRIC_ATTR),
        counts=counts,
        best_value=best.values[0] if best else None,
        best_trial=best.number if best else None,
        started=min((t.datetime_start for t in trials if t.datetime_start), default=None),
        last_update=max(moments, default=None),
        stop_requested=stop,
        stopping=stopping,
        parent_run_id=attrs.get(PARENT_RUN_ATTR),
        best_run_id=best.user_attrs.get("mlflow_run_id") if best else None,
    )


def find_study(storage: Any, name: str) -> Any:
    for frozen in storage.get_all_studies():
        if frozen.study_name == name:
            return frozen
    known = sorted(s.study_name for s in storage.get_all_studies())
    raise CockpitError(f"study {name!r}: no such study; studies: {', '.join(known) or 'none yet'}")


def require_storage(workspace: Workspace, storage_url: str | None) -> Any:
    storage = open_storage(workspace, storage_url)
    if storage is None:
        raise CockpitError(
            f"{workspace.relative(workspace.optuna_db_file)} does not exist: no study has run "
            "in this workspace yet (cockpit submit tune --theme NAME)"
        )
    return storage


def list_studies(workspace: Workspace, storage_url: str | None = None) -> list[StudySummary]:
    """Every study of the storage, the most recently updated first."""
    storage = open_storage(workspace, storage_url)
    if storage is None:
        return []
    summaries = [
        _summary(frozen, _trials(storage, frozen.study_name))
        for frozen in storage.get_all_studies()
    ]
    oldest = dt.datetime.min
    return sorted(summaries, key=lambda s: (s.last_update or oldest, s.name), reverse=True)


def _trial_row(trial: Any, now: dt.datetime) -> TrialRow:
    start, end = trial.datetime_start, trial.datetime_complete
    duration = None
    if start is not None:
        duration = ((end or now) - start).total_seconds()
    return TrialRow(
        number=trial.number,
        state=_state_name(trial),
        value=trial.values[0] if trial.values else None,
        duration=duration,
        started=start,
        params=dict(trial.params),
        experiment_id=trial.user_attrs.get("experiment_id"),
        intermediate=tuple(
            sorted(
                (int(step), float(value))
                for step, value in trial.intermediate_values.items()
                if value is not None and math.isfinite(value)
            )
        ),
    )


def _axes(trials: list[Any]) -> list[ParamAxis]:
    """One axis per parameter, spanning every distribution it had (a study file may have
    changed between runs of the same study)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    found: dict[str, ParamAxis] = {}
    for trial in trials:
        for name, dist in trial.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                axis = ParamAxis(name, "categorical", choices=tuple(dist.choices))
            else:
                kind = "int" if isinstance(dist, IntDistribution) else "float"
                axis = ParamAxis(name, kind, dist.low, dist.high, dist.log)
            seen = found.get(name)
            if seen is None or seen.kind != axis.kind:
                found.setdefault(name, axis)
                continue
            if axis.kind == "categorical":
                extra = tuple(c for c in axis.choices if c not in seen.choices)
                found[name] = ParamAxis(name, "categorical", choices=seen.choices + extra)
            else:
                found[name] = ParamAxis(
                    name,
                    seen.kind,
                    min(seen.low, axis.low),
                    max(seen.high, axis.high),
                    seen.log and axis.log,
                )
    return list(found.values())


def _history(trials: list[TrialRow], direction: str) -> History:
    done = sorted(
        (t for t in trials if t.state == "complete" and t.value is not None), key=lambda t: t.number
    )
    pick = max if direction == "maximize" else min
    best: list[float] = []
    for trial in done:
        best.append(trial.value if not best else pick(best[-1], trial.value))
    return History([t.number for t in done], [t.value for t in done], best)


@functools.cache
def _has_sklearn() -> bool:
    return importlib.util.find_spec("sklearn") is not None


#: fANOVA's cost grows with the trials (about 1 s at 100 on one core); beyond this
#: many the random forest's mean decrease in impurity answers in a tenth of a second
FANOVA_MAX_TRIALS = 100
_importance_cache: dict[tuple[str, str], tuple[tuple, tuple[dict[str, float], str]]] = {}
_importance_lock = threading.Lock()


def _evaluator(n_complete: int) -> tuple[Any, str]:
    import optuna

    if not _has_sklearn():
        return optuna.importance.PedAnovaImportanceEvaluator(), "PED-ANOVA"
    if n_complete <= FANOVA_MAX_TRIALS:
        return optuna.importance.FanovaImportanceEvaluator(seed=0), "fANOVA"
    return (
        optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0),
        "mean decrease in impurity",
    )


def param_importances(study: Any, storage_url: str | None = None) -> tuple[dict[str, float], str]:
    """Importance of each parameter for the objective and a note (the evaluator, or why
    there is none). fANOVA (Optuna's default) and mean decrease in impurity need
    scikit-learn; without it PED-ANOVA, which needs nothing more than Optuna. With
    ``storage_url``, kept until another trial of the study completes."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}, "parameter importance needs at least 2 complete trials"
    cache_key = (storage_url or "", study.study_name)
    signature = tuple((t.number, t.values[0] if t.values else None) for t in complete)
    with _importance_lock:
        cached = _importance_cache.get(cache_key)
    if storage_url and cached is not None and cached[0] == signature:
        return cached[1]
    evaluator, label = _evaluator(len(complete))
    try:
        with warnings.catch_warnings():  # "experimental" notices
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError) as exc:
        return {}, f"no parameter importance: {exc}"
    if found:
        result = (
            {k: float(v) for k, v in found.items()},
            f"{label} over {len(complete)} complete trials",
        )
    else:
        result = {}, "no parameter varies over the complete trials"
    if storage_url:
        with _importance_lock:
            _importance_cache[cache_key] = (signature, result)
    return result


def load_study_details(
    workspace: Workspace, name: str, storage_url: str | None = None
) -> StudyDetails:
    """Trials, axes, history and importance of one study."""
    import optuna

    storage = require_storage(workspace, storage_url)
    frozen = find_study(storage, name)
    trials = _trials(storage, name)
    summary = _summary(frozen, trials)
    now = dt.datetime.now()
    rows = [_trial_row(t, now) for t in sorted(trials, key=lambda t: t.number)]
    study = optuna.load_study(study_name=name, storage=storage)
    importance, note = param_importances(study, storage_url or workspace.optuna_storage_url)
    return StudyDetails(
        summary=summary,
        trials=rows,
        axes=_axes(trials),
        history=_history(rows, summary.direction),
        importance=importance,
        importance_note=note,
    )


def best_trial(workspace: Workspace, study_name: str, storage_url: str | None = None) -> BestTrial:
    """The study's best complete trial with every parameter it trained with (from its
    experiment record: the same values as ``configs/best_params_<study>.yaml``)."""
    storage = require_storage(workspace, storage_url)
    frozen = find_study(storage, study_name)
    trials = _trials(storage, study_name)
    summary = _summary(frozen, trials)
    if summary.best_trial is None:
        raise CockpitError(f"study {study_name!r}: no trial has completed yet")
    best = next(t for t in trials if t.number == summary.best_trial)
    experiment_id = best.user_attrs.get("experiment_id")
    params, theme = dict(best.params), summary.theme
    record = (
        workspace.experiment_dir(experiment_id) / "record" / "resolved_config.yaml"
        if experiment_id
        else None
    )
    if record is not None and record.exists():
        resolved = yaml.safe_load(record.read_text(encoding="utf-8")) or {}
        params = {**resolved.get("params", {}), **best.params}
        theme = theme or resolved.get("theme")
    return BestTrial(
        study_name=study_name,
        number=best.number,
        value=float(best.values[0]),
        theme=theme,
        tuned=dict(best.params),
        params=params,
        experiment_id=experiment_id,
    )


def best_params(workspace: Workspace, study_name: str, storage_url: str | None = None) -> dict:
    """Every parameter of the study's best trial, ready for params.yaml or the editor."""
    return best_trial(workspace, study_name, storage_url).params
