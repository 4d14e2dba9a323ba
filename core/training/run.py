"""``cockpit train``: build the experiment, decide new/resume/extend/complete, fit with
Lightning, test, package, register — the same function the runner's job process calls."""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.config.naming import run_name_of
from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot
from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.names import check_optional_name
from core.training.builder import ExperimentBuilder, ExperimentContext
from core.training.checkpoints import CheckpointManager, ResumePlan
from core.training.tracking import RunJournal
from core.workspace import Workspace

Echo = Callable[[str], None]
FLUSH_INTERVAL_S = 5.0
PROGRESS_EVERY_N_STEPS = 10


@dataclass
class TrialHooks:
    """How a tuning trial runs a training: as a child run, reporting every epoch."""

    run_name: str
    tags: dict[str, str]  # includes mlflow.parentRunId
    on_epoch: Callable[[dict[str, float], int], None]  # may raise optuna.TrialPruned


@dataclass
class TrainOutcome:
    experiment_id: str
    plan: ResumePlan
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None
    model_version: str | None = None
    registry_decision: str | None = None  # why this training is or is not a registry version
    mlflow_pending: bool = False


@dataclass
class Reproduction:
    """Retrain a recorded experiment: its recorded snapshot, in a folder of its own, as a
    run tagged with the original run; never registered, never a DB model row."""

    snapshot: DataSnapshot
    folder: Path
    tags: dict[str, str]


def choose_precision(requested: str) -> str:
    import torch

    if requested == "32":
        return "32-true"
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


def _quiet_libraries() -> None:
    """Keep job logs readable: library chatter that says nothing to a user goes."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import pytorch_lightning  # noqa: F401  (configures its loggers on import; adjust after)

    for name in (
        "pytorch_lightning",
        "pytorch_lightning.utilities.rank_zero",
        "lightning.pytorch",
        "lightning_fabric",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    for message in (
        ".*does not have many workers.*",
        ".*LeafSpec.*",
        "Checkpoint directory .* exists and is not empty",
        ".*was called without a model.*",
        ".*there is no last checkpoint available.*",
        ".*[Tt]ype hint.*",
        "\x1b\\[3[13]m.*[Tt]ype hint",
    ):
        warnings.filterwarnings("ignore", message=message)


def _epoch_callback(
    journal: RunJournal, echo: Echo, plan: ResumePlan, trial: TrialHooks | None
) -> Any:
    import pytorch_lightning as pl

    max_epochs = plan.max_epochs
    # a resume redoes the epoch its checkpoint had not counted yet: logged once already?
    logged = journal.last_epoch() if plan.mode in ("resume", "extend") else -1

    class EpochRecorder(pl.Callback):
        """Per-epoch metrics to MLflow (through the journal) and one log line."""

        flushed_at = time.monotonic()

        def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            metrics = {
                k: float(v)
                for k, v in trainer.callback_metrics.items()
                if k.startswith(("train_", "valid_"))
            }
            if trainer.optimizers:
                metrics["lr"] = float(trainer.optimizers[0].param_groups[0]["lr"])
            if trainer.current_epoch > logged:
                journal.log_metrics(metrics, step=trainer.current_epoch, epoch=True)
            # the journal already holds the epoch safely; the store is written every few
            # seconds, not every (possibly sub-second) epoch, in a background thread while
            # the next epoch trains, and at the end of the run
            due = time.monotonic() - self.flushed_at >= FLUSH_INTERVAL_S
            if due and journal.flush_in_background():
                self.flushed_at = time.monotonic()
            # the log line keeps the epoch means (x_step / x_epoch repeat them for MLflow)
            shown = "  ".join(
                f"{k} {v:.4f}"
                for k, v in sorted(metrics.items())
                if k != "lr" and not k.endswith(("_step", "_epoch"))
            )
            echo(f"epoch {trainer.current_epoch + 1}/{max_epochs}  {shown}")
            if trial is not None:
                trial.on_epoch(metrics, trainer.current_epoch)

    return EpochRecorder()


def _progress_callback(max_epochs: int) -> Any:
    """The live line of a terminal: epoch k/n (as the epoch lines), step bar, loss."""
    import shutil
    import sys

    import pytorch_lightning as pl

    from core.output import progress_line

    class LiveProgress(pl.Callback):
        def on_train_batch_end(
            self, trainer: pl.Trainer, _module: Any, _out: Any, _batch: Any, batch_idx: int
        ) -> None:
            steps = trainer.num_training_batches
            last = isinstance(steps, int) and batch_idx + 1 >= steps
            if (batch_idx + 1) % PROGRESS_EVERY_N_STEPS and not last:
                return  # a terminal line redrawn every few steps, not every step
            metrics = {  # the last step's values
                k.removesuffix("_step"): float(v)
                for k, v in trainer.callback_metrics.items()
                if k.startswith("train_") and k.endswith("_step")
            }
            width = shutil.get_terminal_size().columns - 1
            line = progress_line(
                trainer.current_epoch + 1,
                max_epochs,
                batch_idx + 1,
                steps if isinstance(steps, int) else None,
                metrics,
                width,
            )
            sys.stdout.write(f"\r\x1b[K{line}")
            sys.stdout.flush()

        def on_train_epoch_end(self, *_args: Any) -> None:
            sys.stdout.write("\r\x1b[K")  # the epoch line takes its place
            sys.stdout.flush()

    return LiveProgress()


def trainer_settings(ctx: ExperimentContext) -> dict[str, Any]:
    """The Lightning Trainer settings every fit of an experiment shares (the training's
    and the label-issue finder's cross-validation folds): epochs, device, precision,
    determinism, and none of Lightning's own logging or output."""
    import torch

    on_gpu = torch.cuda.is_available()
    return {
        "max_epochs": int(ctx.values["max_epochs"]),
        "accelerator": "gpu" if on_gpu else "cpu",
        "devices": 1,
        "precision": choose_precision(ctx.values["precision"]),
        "deterministic": "warn" if on_gpu else True,
        "logger": False,
        "enable_progress_bar": False,  # its bar counts epochs from 0: ours (1-based) instead
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }


def _trainer(ctx: ExperimentContext, callbacks: list[Any]) -> Any:
    import pytorch_lightning as pl

    from core.training.checkpoint_io import DEFAULT_BUDGET, SafeCheckpointIO

    return pl.Trainer(
        **trainer_settings(ctx),
        callbacks=callbacks,
        default_root_dir=str(ctx.experiment_dir),
        plugins=[SafeCheckpointIO(asynchronous=True, budget=DEFAULT_BUDGET)],
    )


def _fit(
    ctx: ExperimentContext,
    plan: ResumePlan,
    journal: RunJournal,
    manager: CheckpointManager,
    job_id: str | None,
    echo: Echo,
    progress_bar: bool,
    trial: TrialHooks | None,
) -> bool:
    """Train; returns whether early stopping ended the fit."""
    from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

    from core.training.checkpoint_io import InterruptCheckpoint

    # Two checkpoints: Lightning's save_last only writes when the monitored value improves,
    # but resuming needs the state after every epoch. last.ckpt reuses best.ckpt's bytes at an
    # epoch that improves, and is paced for a large model (``SafeCheckpointIO``'s budget).
    best = ModelCheckpoint(
        dirpath=ctx.experiment_dir,
        filename="best",
        monitor="valid_loss",
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    last = ModelCheckpoint(
        dirpath=ctx.experiment_dir, filename="last", save_top_k=1, enable_version_counter=False
    )
    # a cancel (SIGTERM -> KeyboardInterrupt) or crash mid-epoch still leaves a checkpoint
    interrupted = InterruptCheckpoint(dirpath=ctx.experiment_dir, filename=manager.interrupted.stem)
    callbacks: list[Any] = [
        best,
        last,
        interrupted,
        *([_progress_callback(plan.max_epochs)] if progress_bar else []),
        _epoch_callback(journal, echo, plan, trial),
    ]
    patience = int(ctx.values["early_stopping_patience"])
    early = EarlyStopping(monitor="valid_loss", mode="min", patience=patience) if patience else None
    if early is not None:
        callbacks.append(early)
    callbacks += _job_callbacks(ctx, job_id)
    trainer = _trainer(ctx, callbacks)
    trainer.fit(
        ctx.module,
        datamodule=ctx.datamodule,
        ckpt_path=str(plan.checkpoint) if plan.checkpoint else None,
        weights_only=True,
    )
    return bool(early is not None and early.stopped_epoch > 0)


def _job_callbacks(ctx: ExperimentContext, job_id: str | None) -> list[Any]:
    from core.training.callbacks import JobLoggingCallback

    if not job_id:
        return []
    return [JobLoggingCallback(ctx.workspace.logs_dir / f"{job_id}.metrics.jsonl")]


def _evaluate(
    ctx: ExperimentContext,
    journal: RunJournal,
    manager: CheckpointManager,
    job_id: str | None,
    echo: Echo,
) -> dict[str, float]:
    """Metrics of the best weights: valid_* on the valid split, test_* on the test split."""
    ctx.module.load_state_dict(manager.best_weights())
    trainer = _trainer(ctx, _job_callbacks(ctx, job_id))
    [valid] = trainer.validate(ctx.module, datamodule=ctx.datamodule, verbose=False)
    metrics = {k: float(v) for k, v in valid.items()}
    journal.log_metrics({f"best_{k}": v for k, v in metrics.items()}, step=0)
    if ctx.snapshot.split("test"):
        [results] = trainer.test(ctx.module, datamodule=ctx.datamodule, verbose=False)
        tested = {k: float(v) for k, v in results.items()}
        journal.log_metrics(tested, step=0)
        metrics.update(tested)
    _record_confusion(ctx, journal)
    echo("best weights: " + "  ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())))
    return metrics


def _record_confusion(ctx: ExperimentContext, journal: RunJournal) -> None:
    """Counts of true vs predicted class of the best weights (test split, else valid)."""
    from core.training.confusion import count_confusion, write_confusion

    split = "test" if ctx.snapshot.split("test") else "valid"
    loader = (
        ctx.datamodule.test_dataloader() if split == "test" else ctx.datamodule.val_dataloader()
    )
    matrix = count_confusion(ctx.module, loader, len(ctx.class_names))
    path = write_confusion(ctx.experiment_dir, split, list(ctx.class_names), matrix)
    journal.log_artifact(path, "evaluation")


def _package(
    ctx: ExperimentContext, journal: RunJournal, echo: Echo, metrics: dict[str, float]
) -> None:
    from core.training.packaging import export_model

    packaged = export_model(ctx)
    echo(f"exported TorchScript and ONNX (max |onnx - torch| = {packaged.onnx_max_diff:.2e})")
    journal.record(
        "model",
        folder=str(packaged.folder),
        weights_digest=packaged.weights_digest,
        experiment_id=ctx.experiment_id,
        # the version's metrics, as the run logged them for these weights (best_valid_*)
        metrics={**metrics, **{f"best_{k}": v for k, v in metrics.items() if "valid_" in k[:6]}},
        register=ctx.values.get("registration", "better"),
    )


def train_experiment(
    workspace: Workspace,
    theme_name: str,
    params: ResolvedParams,
    *,
    job_id: str | None = None,
    restart: bool = False,
    echo: Echo = print,
    progress_bar: bool = False,
    trial: TrialHooks | None = None,
    reproduction: Reproduction | None = None,
) -> TrainOutcome:
    """Train ``theme_name`` with ``params``: new, resumed, extended, or already complete.

    ``trial`` (tuning): the run becomes a child run, each epoch's metrics go to the trial
    (which may prune it by raising), and the model is neither exported nor registered.
    """
    if job_id is None and trial is None:  # a new foreground run (jobs checked it at submit)
        check_optional_name("params run_name", params.values.get("run_name", ""))
    workspace.ensure_dirs()
    builder = ExperimentBuilder(workspace, params, theme_name)
    snapshot = reproduction.snapshot if reproduction else builder.data_snapshot()
    experiment_id = params.experiment_id(snapshot.fingerprint())
    folder = reproduction.folder if reproduction else workspace.experiment_dir(experiment_id)
    manager = CheckpointManager(folder)
    manager.dir.mkdir(parents=True, exist_ok=True)
    journal = RunJournal(workspace, manager.dir, theme_name)
    if restart:
        moved = manager.set_aside()
        if moved is not None:
            echo(f"--restart: previous checkpoints moved to {workspace.relative(moved)}")
        # the earlier run keeps its epochs; the fit from scratch logs into a new run
        journal.retire_run()
    plan = manager.plan(int(params.values["max_epochs"]))
    for line in plan.skipped:
        echo(line)
    if plan.mode == "new" and trial is None and not restart and journal.last_epoch() >= 0:
        # epochs were logged but no checkpoint holds them (a process killed outright before
        # its first checkpoint, or checkpoints deleted): the fit starts over, in a run of
        # its own, and the earlier run is kept as it was, not logged into a second time
        echo("no checkpoint of the earlier epochs: starting over in a new MLflow run")
        journal.retire_run()
    if plan.unreadable:
        # Lightning would overwrite them; kept for a look, out of the resume's way
        manager.set_aside(plan.unreadable)
    echo(f"experiment {experiment_id} on theme {theme_name!r}: {plan.describe()}")

    journal.model_logger = lambda run_id, op: _log_model(workspace, theme_name, run_id, op)
    journal.flush()  # whatever an interrupted earlier run could not write
    outcome = TrainOutcome(experiment_id, plan, run_id=journal.run_id)
    state = manager.state()
    if plan.mode == "complete" and (state.packaged or (trial is not None and state.final_metrics)):
        outcome.metrics = state.final_metrics
        if trial is not None:
            # a retried trial (its first process was killed after the fit) finds the
            # experiment complete: the record now names the trial that delivered it
            _claim_for_trial(journal, manager.dir, trial, job_id, "complete")
        _finish_record(workspace, theme_name, snapshot, experiment_id, journal, outcome)
        return outcome

    # torch and Lightning only now: an "already complete" answer does not wait for them
    _quiet_libraries()
    import pytorch_lightning as pl

    from core.training.record import run_tags, write_record

    pl.seed_everything(int(params.values["seed"]), workers=True, verbose=False)
    ctx = builder.build(snapshot)
    if reproduction is not None:
        ctx.folder = reproduction.folder
    if plan.mode != "complete":
        run_name = run_name_of(params)  # the user's run_name, else what differs
        tags = run_tags(ctx, job_id)
        if reproduction is not None:
            run_name = f"{run_name}-reproduction"
            tags.update(reproduction.tags)
        if trial is not None:
            run_name = trial.run_name
            tags.update(trial.tags)
        journal.start_run(run_name, tags)
        if trial is not None:
            _write_trial_file(manager.dir, trial, job_id, "running")
        journal.log_params(params.values)
        for path in write_record(ctx):
            journal.log_artifact(path, "record")
        journal.flush()
        try:
            stopped_early = _fit(ctx, plan, journal, manager, job_id, echo, progress_bar, trial)
        except BaseException as exc:
            pruned = type(exc).__name__ == "TrialPruned"
            try:
                journal.set_tags({"state": "pruned" if pruned else "interrupted"})
                if trial is not None:
                    state = "pruned" if pruned else "stopped"
                    _write_trial_file(manager.dir, trial, job_id, state)
                journal.end_run("KILLED")
                journal.flush()
            except (OSError, CockpitError) as bookkeeping:
                # a full disk that stopped the fit may refuse these lines too; the error
                # that stopped the fit is the one to report (the next run reopens the run)
                exc.add_note(f"also not recorded: {bookkeeping}")
            raise
        done = manager.epochs_in_checkpoint(manager.last)
        manager.write_state(
            replace(
                manager.state(),
                finished=True,
                completed_epochs=done,
                max_epochs=plan.max_epochs,
                stopped_early=stopped_early,
                packaged=False,
                checkpoint_stamp=manager.stamp(manager.last),
            )
        )
        if stopped_early:
            echo(f"early stopping after epoch {done}: valid_loss stopped improving")
    elif trial is not None:  # fitted by a killed earlier trial, not yet evaluated
        _claim_for_trial(journal, manager.dir, trial, job_id, "running")
    outcome.metrics = _evaluate(ctx, journal, manager, job_id, echo)
    package = trial is None
    if package:
        _package(ctx, journal, echo, outcome.metrics)
    journal.end_run("FINISHED")
    if trial is not None:
        _write_trial_file(manager.dir, trial, job_id, "complete")
    manager.write_state(replace(manager.state(), packaged=package, final_metrics=outcome.metrics))
    if reproduction is not None:  # its own run only: no model row, no registry version
        outcome.mlflow_pending = not journal.flush()
        outcome.run_id = journal.run_id
        return outcome
    _finish_record(workspace, theme_name, snapshot, experiment_id, journal, outcome)
    if outcome.mlflow_pending:
        echo(
            f"MLflow store not reachable ({journal.last_error}); the record is kept in "
            f"{workspace.relative(journal.path)} and completed by the next command"
        )
    return outcome


def _log_model(workspace: Workspace, theme_name: str, run_id: str, op: dict[str, Any]) -> None:
    from core.training.packaging import log_model_to_run

    log_model_to_run(workspace, theme_name, run_id, op)


def _claim_for_trial(
    journal: RunJournal, folder: Path, trial: TrialHooks, job_id: str | None, state: str
) -> None:
    """The experiment's child run and ``trial.json`` name ``trial`` (a retried trial
    continues the experiment its killed predecessor started, under its own number)."""
    journal.rename_run(trial.run_name, trial.tags)
    _write_trial_file(folder, trial, job_id, state)


def _write_trial_file(folder: Path, trial: TrialHooks, job_id: str | None, state: str) -> None:
    """``trial.json``: which study and trial trained this experiment, for the history."""
    info = {
        "study": trial.tags.get("study_name"),
        "trial": int(trial.tags.get("optuna_trial", -1)),
        "job_id": job_id,
        "state": state,
    }
    atomic_write_text(folder / "trial.json", json.dumps(info) + "\n")


def _finish_record(
    workspace: Workspace,
    theme_name: str,
    snapshot: DataSnapshot,
    experiment_id: str,
    journal: RunJournal,
    outcome: TrainOutcome,
) -> None:
    """Apply the MLflow journal; once the run exists, the DB's Model rows follow it."""
    from core.training.packaging import latest_version, record_model, registry_decision

    outcome.mlflow_pending = not journal.flush()
    outcome.run_id = journal.run_id
    if outcome.run_id and not outcome.mlflow_pending:
        record_model(workspace, snapshot, experiment_id, outcome.run_id, outcome.metrics)
        version, outcome.registry_decision = registry_decision(workspace, outcome.run_id)
        if version is None:  # a run recorded before the registration policy
            version = latest_version(workspace, theme_name, outcome.run_id)
        outcome.model_version = version or None
