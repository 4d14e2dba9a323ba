"""``cockpit submit``, ``cockpit runner`` and ``cockpit queue``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, param_options, resolved_params, workspace_option


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "-"
    return dt.datetime.fromtimestamp(timestamp).strftime("%m-%d %H:%M:%S")


def _queue():
    from core.jobs.queue import JobQueue

    return JobQueue(current_workspace())


@click.group()
def submit() -> None:
    """Queue a job; the runner starts when needed."""


@submit.command("train")
@click.option("--theme", "theme_name", required=True, help="theme whose labeled images to train on")
@click.option("--model", help="model definition (same as --set model=NAME)")
@click.option("--priority", default=0, show_default=True, help="higher runs first")
@click.option("--restart", is_flag=True, help="set the experiment's checkpoints aside first")
@click.option("--name", help="the run's name (default: the parameters that differ, e.g. lr=0.01)")
@click.option("--no-runner", is_flag=True, help="queue only; do not start the runner")
@click.option(
    "--strict",
    is_flag=True,
    help="refuse the job when the pre-flight check warns (memory, disk, data, versions)",
)
@param_options
def submit_train_command(
    theme_name: str,
    model: str | None,
    params_file: Path | None,
    overrides: tuple[str, ...],
    priority: int,
    restart: bool,
    name: str | None,
    no_runner: bool,
    strict: bool,
) -> None:
    """Queue a training job (validated and pre-flight checked now, parameters frozen now)."""
    from core.jobs.submit import submit_train

    workspace = current_workspace()
    params = resolved_params(params_file, overrides, model)
    job = submit_train(
        workspace,
        theme_name,
        params,
        name=name,
        priority=priority,
        restart=restart,
        start=not no_runner,
        strict=strict,
    )
    for warning in job.preflight.get("warnings", []):
        click.secho(f"warning: {warning}", fg="yellow")
    click.echo(f"queued {job.id}: train {theme_name} {job.name!r} (experiment {job.experiment_id})")


@submit.command("plot")
@click.option("--experiment", "experiment_id", required=True, help="experiment id to plot")
@click.option("--no-runner", is_flag=True, help="queue only; do not start the runner")
@workspace_option
def submit_plot_command(experiment_id: str, no_runner: bool) -> None:
    """Queue the plots of an experiment."""
    from core.jobs.submit import submit_plot

    job = submit_plot(current_workspace(), experiment_id, start=not no_runner)
    click.echo(f"queued {job.id}: plot {experiment_id}")


@submit.command("check")
@click.option("--no-runner", is_flag=True, help="queue only; do not start the runner")
@param_options
def submit_check_command(
    params_file: Path | None, overrides: tuple[str, ...], no_runner: bool
) -> None:
    """Queue a quick configuration check (parameters and registry) as a job."""
    from core.jobs.submit import submit_check

    workspace = current_workspace()
    params = resolved_params(params_file, overrides)
    job = submit_check(workspace, params, start=not no_runner)
    click.echo(f"queued {job.id}: check")


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="exit after one job has ended")
@click.option("--cpu-slots", default=1, show_default=True, help="parallel jobs without GPUs")
@click.option(
    "--min-free-gpu-mb",
    default=2048,
    show_default=True,
    help="start a job on a GPU only with this much free memory",
)
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    help="seconds a cancelled or stopped job gets to stop before it is killed",
)
@workspace_option
@click.pass_context
def runner(
    ctx: click.Context, once: bool, cpu_slots: int, min_free_gpu_mb: int, grace: float
) -> None:
    """Run queued jobs until the queue is empty (one runner per workspace); or control
    the running one with a subcommand."""
    from core.jobs.runner import Runner

    if ctx.invoked_subcommand is not None:
        return

    def echo(line: str) -> None:
        click.echo(f"{dt.datetime.now():%H:%M:%S} {line}")

    Runner(
        current_workspace(),
        cpu_slots=cpu_slots,
        min_free_gpu_mb=min_free_gpu_mb,
        grace_s=grace,
        echo=echo,
    ).run(once=once)


@runner.command("status")
@workspace_option
def runner_status() -> None:
    """Whether a runner runs, its pid, mode (running, draining, stopping) and jobs."""
    from core.jobs.runner import runner_state

    state = runner_state(current_workspace())
    click.echo(f"runner: {state.describe()}")
    for job_id in state.running:
        click.echo(f"  {job_id}")


@runner.command("start")
@workspace_option
def runner_start() -> None:
    """Start a runner in the background unless one runs."""
    from core.jobs.runner import runner_state, start_runner

    workspace = current_workspace()
    if start_runner(workspace):
        click.echo("runner started")
    else:
        click.echo(f"runner already {runner_state(workspace).describe()}")


@runner.command("drain")
@workspace_option
def runner_drain() -> None:
    """Let the running jobs finish, start no new one, then exit (pending jobs stay)."""
    from core.jobs.runner import request_runner

    state = request_runner(current_workspace(), "drain")
    click.echo(f"runner pid {state.pid}: draining ({len(state.running)} job(s) to finish)")


@runner.command("stop")
@workspace_option
def runner_stop() -> None:
    """Stop the running jobs (they keep a checkpoint and go back to the queue) and exit."""
    from core.jobs.runner import request_runner

    state = request_runner(current_workspace(), "stop")
    click.echo(f"runner pid {state.pid}: stopping ({len(state.running)} job(s) back to the queue)")


@click.group()
def queue() -> None:
    """List, reorder, cancel and retry jobs."""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@queue.command("list")
@click.option(
    "--state",
    type=click.Choice(["pending", "running", "finished", "failed", "cancelled"]),
    multiple=True,
    help="only jobs in this state (repeatable)",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="output format"
)
@workspace_option
def queue_list(state: tuple[str, ...], fmt: str) -> None:
    """Jobs by state; pending ones in the order they will run; running ones with their
    epoch (or trial) and the time left."""
    from core.jobs.progress import ProgressTracker, duration_text
    from core.jobs.runner import runner_state

    jobs_queue = _queue()
    states = state or ("running", "pending", "failed", "cancelled", "finished")
    order = {s: i for i, s in enumerate(states)}

    def key(job):  # a Job or a JobSummary
        if job.state == "pending":
            return (order[job.state], job.order_key())
        return (order[job.state], (-(job.finished_at or job.started_at or job.created_at), 0, 0))

    if fmt == "json":
        jobs = sorted(jobs_queue.jobs(tuple(states)), key=key)
        corrupt = jobs_queue.corrupt_files()  # after the scan, which moves them there
        click.echo(json.dumps([j.model_dump() for j in jobs], indent=1))
        for item in corrupt:  # the JSON list stays a list of jobs: the files go to stderr
            click.secho(f"warning: {item.line(jobs_queue.workspace)}", err=True, fg="yellow")
        return
    # the index: only changed job files are parsed, however long the queue
    summaries = sorted(jobs_queue.summaries(tuple(states)), key=key)
    running = jobs_queue.jobs(("running",)) if "running" in states else []
    progress = ProgressTracker(jobs_queue.workspace.logs_dir).update(running)
    corrupt = jobs_queue.corrupt_files()
    click.echo(f"runner: {runner_state(jobs_queue.workspace).describe()}")
    for job in summaries:
        line = (
            f"{job.state:<10} {job.id}  {job.label:<32} {_short(job.name or '-', 24):<24} "
            f"prio {job.priority:>2}  "
            f"exp {job.experiment_id or '-':<12}  {job.device or '-':<7} "
            f"{_when(job.finished_at or job.started_at or job.created_at)}"
        )
        done = progress.get(job.id) if job.state == "running" else None
        if done is not None and done.text():
            line += f"  {done.text()}"
            if done.eta_s is not None:
                line += f", {duration_text(done.eta_s)} left"
        click.echo(line)
    if corrupt:
        click.echo(f"unreadable job files ({len(corrupt)}), never run, kept in queue/corrupt/:")
        for item in corrupt:
            click.echo(f"corrupt    {item.line(jobs_queue.workspace)}")


@queue.command("cluster")
@workspace_option
def queue_cluster() -> None:
    """The Ray cluster the jobs go to (stores.ray_address): its nodes, their GPUs and
    CPUs in use, each GPU's utilisation and memory, and which job runs on which node."""
    from core.jobs.cluster import check_address, cluster_nodes, cluster_text

    workspace = current_workspace()
    address = workspace.stores.ray_address
    check_address(address, unset=" (jobs run on this machine)")
    click.echo(cluster_text(address, cluster_nodes(address)))
    for job in _queue().jobs(("running",)):
        if job.node:
            click.echo(f"{job.id}  {job.label}  on {job.where}")


@queue.command("move")
@click.argument("job_id")
@click.argument("position", type=int)
@workspace_option
def queue_move(job_id: str, position: int) -> None:
    """Move a pending job JOB_ID to POSITION (1 = runs next).

    JOB_ID: as `cockpit queue list` shows it.
    """
    job = _queue().move(job_id, position)
    click.echo(f"moved {job.id} to position {position}")


@queue.command("next")
@click.argument("job_id")
@workspace_option
def queue_next(job_id: str) -> None:
    """Run the pending job JOB_ID next.

    JOB_ID: as `cockpit queue list` shows it.
    """
    job = _queue().run_next(job_id)
    click.echo(f"{job.id} runs next")


@queue.command("priority")
@click.argument("job_id")
@click.argument("priority", type=int)
@workspace_option
def queue_priority(job_id: str, priority: int) -> None:
    """Set the PRIORITY of the pending job JOB_ID (an integer; higher runs first).

    JOB_ID: as `cockpit queue list` shows it.
    """
    job = _queue().set_priority(job_id, priority)
    click.echo(f"{job.id}: priority {job.priority}")


@queue.command("cancel")
@click.argument("job_id")
@workspace_option
def queue_cancel(job_id: str) -> None:
    """Cancel job JOB_ID: pending at once; running gets SIGTERM, keeps a checkpoint.

    JOB_ID: as `cockpit queue list` shows it.
    """
    job = _queue().cancel(job_id)
    what = "cancelled" if job.state == "cancelled" else "cancel requested (the runner stops it)"
    click.echo(f"{job.id}: {what}")


@queue.command("retry")
@click.argument("job_id")
@workspace_option
def queue_retry(job_id: str) -> None:
    """Queue the failed or cancelled job JOB_ID again (same frozen parameters; resumes).

    JOB_ID: as `cockpit queue list` shows it.
    """
    from core.jobs.runner import start_runner

    job = _queue().retry(job_id)
    start_runner(current_workspace())
    click.echo(f"{job.id}: pending again")


@queue.command("remove")
@click.argument("job_id")
@workspace_option
def queue_remove(job_id: str) -> None:
    """Remove the finished, failed or cancelled job JOB_ID from the list.

    JOB_ID: as `cockpit queue list` shows it.
    """
    job = _queue().remove(job_id)
    click.echo(f"removed {job.id}")


@queue.command("log")
@click.argument("job_id")
@click.option("--lines", default=40, show_default=True, help="last lines of the log to show")
@workspace_option
def queue_log(job_id: str, lines: int) -> None:
    """The end of the log of job JOB_ID.

    JOB_ID: as `cockpit queue list` shows it.
    """
    from core.jobs.runner import log_tail

    job = _queue().get(job_id)
    click.echo(log_tail(current_workspace().logs_dir / f"{job.id}.log", lines))
