"""Stop a running study after its current trial.

The request is a study user attribute (``stop_requested``, seconds since the epoch) in the
Optuna storage, so it reaches every process working on the study, on any machine that
shares the storage. Each ``run_study`` checks it after every trial and ends the study
cleanly: the best trial so far is summarised and registered, and the job exits 0. A
request older than the process is ignored, so a study submitted again runs normally.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.tuning.results import STOP_ATTR, find_study, require_storage
from core.workspace import Workspace


@dataclass(frozen=True)
class StopRequest:
    study_name: str
    requested: float
    running_trials: list[int]


def request_stop(
    workspace: Workspace, study_name: str, storage_url: str | None = None
) -> StopRequest:
    """Ask every process running ``study_name`` to stop after its current trial."""
    from optuna.trial import TrialState

    storage = require_storage(workspace, storage_url)
    study_id = storage.get_study_id_from_name(find_study(storage, study_name).study_name)
    now = time.time()
    storage.set_study_user_attr(study_id, STOP_ATTR, now)
    running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
    return StopRequest(study_name, now, sorted(t.number for t in running))


class StopWhenRequested:
    """Optuna callback: ``study.stop()`` once a stop was requested after this object was
    made (made when the process starts its run)."""

    def __init__(self, echo: Callable[[str], None] = print) -> None:
        self.since = time.time()
        self.echo = echo

    def __call__(self, study: Any, trial: Any) -> None:
        requested = study.user_attrs.get(STOP_ATTR)
        if requested and requested >= self.since:
            self.echo(f"stop requested: study {study.study_name!r} ends after trial {trial.number}")
            study.stop()
