"""``python -m core.jobs.run JOB.json``: the process of one queued job.

The job file holds the parameters, augmentations and registry entries frozen at submit;
the job trains with those, never with the workspace's files of the moment (edited after
submit, they change the next job, not this one). They are validated again so a file
edited by hand fails with a clear message. SIGTERM (cancel) interrupts training
gracefully: Lightning stops and a checkpoint is written, so ``retry`` resumes.

Before anything else the process holds its job's lock (``core.jobs.locks``): a second
copy of a job that already runs exits at once and touches nothing.
Exit codes: 0 done, 1 crashed, 2 bad input, 3 already running elsewhere,
143 (128 + SIGTERM) interrupted by SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import CockpitError
from core.fileio import read_text
from core.jobs import locks
from core.jobs.model import Job, attempt_text
from core.output import configure_output
from core.workspace import Workspace

ALREADY_RUNNING = 3
INTERRUPTED = 128 + signal.SIGTERM  # the shell's code for a SIGTERM: the runner's "killed"


def load_job(path: Path) -> Job:
    text = read_text(path, "job file")
    try:
        return Job.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CockpitError(f"job file {path}: {where}: {first['msg']}") from exc


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt("cancelled (SIGTERM)")


def _params(workspace: Workspace, job: Job) -> Any:
    from core.config import resolve_params

    return resolve_params(
        workspace,
        base=job.params,
        base_label=f"job {job.id}",
        read_params_file=False,
        augments=job.augments,
        registry=job.registry,
    )


def _changed_since_submit(job: Job, params: Any, trained_id: str) -> str:
    """Why the job trained another experiment than the one submitted: the parameters,
    augmentations and registry entries are frozen, so the definitions' source files or
    the theme's data changed."""
    what = "the theme's data"
    if job.code is not None and params.code != job.code:
        modules = sorted({m for m, _ in set(params.code.items()) ^ set(job.code.items())})
        what = f"the source of {', '.join(modules)} (or the theme's data)"
    return (
        f"note: {what} changed after submit; trained experiment {trained_id} "
        f"instead of {job.experiment_id}"
    )


def run(job: Job) -> int:
    workspace = Workspace.resolve(job.workspace)
    say = lambda line: print(line, flush=True)  # noqa: E731
    say(f"job {job.id}: {job.kind} ({attempt_text(job)})")
    if job.kind == "check":
        from core.registry import check_registry

        params = _params(workspace, job)
        broken = [f for f in check_registry(workspace, deep=False) if f.status == "error"]
        for finding in broken:
            say(f"error: {finding.kind} {finding.name}: {finding.detail}")
        say(f"parameters valid; experiment id {params.experiment_id(job.data_fingerprint)}")
        return 2 if broken else 0
    if job.kind == "train":
        from core.training.run import train_experiment

        if not job.theme:
            raise CockpitError(f"job {job.id}: a train job needs a theme")
        params = _params(workspace, job)
        outcome = train_experiment(
            workspace,
            job.theme,
            params,
            job_id=job.id,
            restart=bool(job.args.get("restart")),
            echo=say,
        )
        if job.experiment_id and outcome.experiment_id != job.experiment_id:
            say(_changed_since_submit(job, params, outcome.experiment_id))
        say(f"experiment {outcome.experiment_id}: done")
        return 0
    if job.kind == "tune":
        from core.config.optuna_params import OptunaParams
        from core.tuning.study import run_study

        if not job.theme:
            raise CockpitError(f"job {job.id}: a tune job needs a theme")
        outcome = run_study(
            workspace,
            job.theme,
            OptunaParams.model_validate(job.args["optuna"]),
            fixed=job.params,
            storage_url=job.args.get("storage"),
            study_name=job.args.get("study_name"),
            n_trials=job.args.get("n_trials"),
            job_id=job.id,
            echo=say,
            augments=job.augments,
            seconds_per_trial=job.args.get("seconds_per_trial"),
            worker=int(job.args.get("worker") or 0),
            workers=int(job.args.get("workers") or 1),
        )
        say(f"study {outcome.study_name}: done ({outcome.counts})")
        return 0
    if job.kind == "plot":
        from core.plots.run import plot_experiment

        plot_experiment(
            workspace, job.args["experiment_id"], only=job.args.get("only", ()), echo=say
        )
        return 0
    if job.kind in ("suggest", "label_issues"):  # model-assisted labeling (core.assist)
        from core.assist.jobs import run_assist_job

        return run_assist_job(workspace, job, say)
    raise CockpitError(f"job {job.id}: {job.kind} jobs are not available yet")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.jobs.run JOB.json", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    configure_output()

    def start() -> int:
        job = load_job(Path(args[0]))
        if not _hold_job_lock(job):
            return ALREADY_RUNNING
        return run(job)

    return run_reported(start)


def run_reported(start: Callable[[], int]) -> int:
    """``start()``'s exit code; a CockpitError becomes its lines on stderr and its exit
    code, an interrupt INTERRUPTED (the checkpoint is kept for a retry)."""
    try:
        return start()
    except CockpitError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "interrupted: stopping (a checkpoint was kept for retry)", file=sys.stderr, flush=True
        )
        return INTERRUPTED


def _hold_job_lock(job: Job) -> bool:
    """Hold the job's lock for the life of this process; False when another live process
    holds it (this copy then must not touch the job's files or runs)."""
    import psutil

    workspace = Workspace.resolve(job.workspace)
    fd = locks.claim_inherited(workspace, job.id)
    if fd is None:
        other = locks.holder(workspace, job.id)
        pid = other.pid if other is not None else None
        print(
            f"error: job {job.id} already runs in process {pid or '?'}; this copy exits "
            "without touching it",
            file=sys.stderr,
            flush=True,
        )
        return False
    locks.write_holder(fd, os.getpid(), psutil.Process().create_time())
    return True


if __name__ == "__main__":
    sys.exit(main())
