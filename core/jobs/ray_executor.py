"""Jobs on a Ray cluster (Ray Jobs API), behind the runner's executor interface.

The runner starts, as for a local job, one process on this machine:
``python -m core.jobs.ray_executor JOB.json``, the job's *supervisor*. It holds the job's
lock (``core.jobs.locks``) for its whole life, exactly like a local job process, so the
runner's exactly-once rules, cancel and crash recovery apply unchanged:

- it submits the job to the cluster named by ``stores.ray_address`` /
  ``COCKPIT_RAY_ADDRESS`` with its resource request (``num_gpus``, ``num_cpus``,
  ``memory_mb`` in the job's ``args["resources"]``; default one GPU when the runner gave
  the job a GPU slot - the runner has one slot per GPU of the cluster, or per CPU on a
  cluster without GPUs (``core.jobs.cluster``) - else none, and one CPU), tagged with the
  cockpit job id; the node Ray runs it on is recorded in the job;
- it copies the Ray job's log into its own output, which is ``queue/logs/<job>.log``, so
  the Queue and Live panels read it as for a local job (the metrics lines are written by
  the job itself into ``queue/logs/<job>.metrics.jsonl`` on the shared workspace);
- SIGTERM (cancel, stop, a new runner reconciling after a crash) stops the Ray job - the
  job's SIGTERM handler keeps a checkpoint - and it exits when Ray reports it ended;
- before submitting it asks Ray for jobs of the same cockpit job that still run (left by
  a supervisor that died with its machine) and follows that one instead: never twice.

Where the workers find the data (``stores.ray_data``, ``docs/scale-out.md``): ``shared``,
the workspace mounted at the same path on every node (a node that does not see it fails
the job with one line, ``core.jobs.ray_entry``); or ``ship``, a train job takes a frozen
copy of its data with it as Ray's ``working_dir`` and its outputs come back through the
workspace database (``core.jobs.shipping``). The exit status is the Ray job's driver
exit code.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from core.errors import CockpitError
from core.jobs.model import Job
from core.jobs.run import ALREADY_RUNNING, _hold_job_lock, load_job
from core.settings import ENV_VARS, store_problem
from core.workspace import Workspace

POLL_S = 0.2  # the job's state
LOG_POLL_S = 1.0  # its log
DASHBOARD_PATIENCE_S = 120.0  # a dashboard not answering for longer fails the job
SUBMIT_RETRY_S = 90.0
STOP_GRACE_S = 60  # from Ray's SIGTERM to its SIGKILL of a stopped job
JOB_ID_KEY = "cockpit_job_id"
# what the job's processes on the cluster need from this environment
PASSED_ENV = ("PYTHONPATH", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
              "PGPASSWORD", *ENV_VARS.values())


TERMINAL = ("STOPPED", "SUCCEEDED", "FAILED")


class JobsClient:
    """Ray's Jobs REST API (what ``ray.job_submission.JobSubmissionClient`` calls), over
    plain HTTP: the supervisor starts without importing Ray (most of a job's overhead)."""

    def __init__(self, address: str) -> None:
        self.address = address.rstrip("/")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            f"{self.address}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def list_jobs(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/jobs/") or [])

    def submit_job(self, **request: Any) -> str:
        return str(self._call("POST", "/api/jobs/", request)["submission_id"])

    def get_job_info(self, submission_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/jobs/{submission_id}"))

    def get_job_logs(self, submission_id: str) -> str:
        return str(self._call("GET", f"/api/jobs/{submission_id}/logs").get("logs") or "")

    def stop_job(self, submission_id: str) -> None:
        self._call("POST", f"/api/jobs/{submission_id}/stop")

    def upload_package(self, package: Path) -> str:
        """``package`` into the cluster's object store, unless it is there already (Ray
        names packages by their content); its URI for a ``working_dir``."""
        path = f"/api/packages/gcs/{package.name}"
        try:
            urllib.request.urlopen(f"{self.address}{path}", timeout=30).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            request = urllib.request.Request(
                f"{self.address}{path}", data=package.read_bytes(), method="PUT"
            )
            urllib.request.urlopen(request, timeout=600).close()
        return f"gcs://{package.name}"


def client_for(address: str) -> JobsClient:
    """A Jobs API client of the cluster at ``address``; one line when it cannot be reached."""
    from core.jobs.cluster import check_address

    check_address(address)
    client = JobsClient(address)
    try:
        client._call("GET", "/api/version")
    except (OSError, ValueError) as exc:  # connection refused, not a Ray dashboard, ...
        raise store_problem("ray_address", address, exc) from exc
    return client


def _resources(job: Job) -> dict[str, Any]:
    """The Ray resource request: ``job.args["resources"]`` (num_gpus, num_cpus, memory_mb);
    by default one GPU when the runner gave the job a GPU slot, else none, and one CPU."""
    wanted = job.args.get("resources") or {}
    gpus = wanted.get("num_gpus")
    if gpus is None:
        gpus = 1 if (job.device or "").startswith(("cuda", "ray-gpu")) else 0
    resources: dict[str, Any] = {
        "entrypoint_num_gpus": float(gpus),
        "entrypoint_num_cpus": float(wanted.get("num_cpus", 1)),
    }
    if wanted.get("memory_mb"):
        resources["entrypoint_memory"] = int(wanted["memory_mb"]) * 1024 * 1024
    return resources


def _http_problem(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", errors="replace") or str(exc)
    except OSError:
        return str(exc)


def _ship(client: JobsClient, workspace: Workspace, job: Job) -> str:
    """The job's data packed and uploaded (``core.jobs.shipping``); its package URI."""
    import tempfile

    from core.jobs.shipping import build_package

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cockpit-package-") as folder:
        package = build_package(workspace, job, Path(folder))
        size = package.stat().st_size
        uri = client.upload_package(package)
    print(f"shipping the job's data with it ({size / 2**20:.1f} MiB, packed and sent in "
          f"{time.perf_counter() - started:.2f} s)", flush=True)
    return uri


def _submit_or_follow(client: JobsClient, job: Job, job_file: Path, shipped: bool) -> str:
    """The submission id of this job's Ray job: a still-running one, else a new one."""
    mine = [d for d in client.list_jobs() if (d.get("metadata") or {}).get(JOB_ID_KEY) == job.id]
    for details in mine:
        if details.get("status") not in TERMINAL:
            print(f"following Ray job {details['submission_id']}, which still runs", flush=True)
            return str(details["submission_id"])
    env = {name: os.environ[name] for name in PASSED_ENV if os.environ.get(name)}
    # the job's own stop handler writes a checkpoint (and a shipped job sends its outputs
    # back) before Ray's supervisor kills it: 3 s by default, not enough for a large model
    env["RAY_JOB_STOP_WAIT_TIME_S"] = str(STOP_GRACE_S)
    submission_id = f"cockpit-{job.id}-{len(mine) + 1}"
    runtime_env: dict[str, Any] = {"env_vars": env}
    python = shlex.quote(sys.executable)
    if shipped:
        workspace = Workspace.resolve(job.workspace)
        runtime_env["working_dir"] = _ship(client, workspace, job)
        entrypoint = f"{python} -u -m core.jobs.ray_entry --shipped {submission_id}"
    else:
        entrypoint = (
            f"cd {shlex.quote(job.workspace)} && "
            f"{python} -u -m core.jobs.ray_entry {shlex.quote(str(job_file))}"
        )
    deadline = time.time() + SUBMIT_RETRY_S
    while True:
        try:
            submission_id = client.submit_job(
                entrypoint=entrypoint,
                submission_id=submission_id,
                metadata={JOB_ID_KEY: job.id},
                runtime_env=runtime_env,
                **_resources(job),
            )
            break
        except urllib.error.HTTPError as exc:
            # a head that has just started has no job agent yet: "try again later"
            problem = _http_problem(exc)
            if "try again" not in problem.lower() or time.time() > deadline:
                address = Workspace.resolve(job.workspace).stores.ray_address
                raise store_problem("ray_address", address, problem) from exc
            time.sleep(1)
    print(f"submitted as Ray job {submission_id}", flush=True)
    return submission_id


def _record_node(workspace: Workspace, job: Job, details: dict[str, Any]) -> bool:
    """Once Ray started the job's driver, its node goes into the job (Queue panel,
    ``queue list``); True when done."""
    from urllib.parse import urlsplit

    node = (details.get("driver_info") or {}).get("node_ip_address")
    agent = details.get("driver_agent_http_address")
    if not node and agent:  # a submitted job's driver runs beside its node's agent
        node = urlsplit(agent).hostname
    if not node and details.get("driver_node_id"):
        node = f"node {details['driver_node_id'][:12]}"
    if not node:
        return False
    from core.jobs.queue import JobQueue

    JobQueue(workspace).place(job.id, str(node))
    print(f"running on Ray node {node}", flush=True)
    return True


def _take_metrics(workspace: Workspace, job: Job, text: str) -> str:
    """A shipped job's metrics lines (in its log) appended to its metrics file here, for
    the Live and Queue panels; the rest of the text."""
    from core.jobs.shipping import split_metrics

    kept, metrics = split_metrics(text)
    if metrics:
        workspace.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(workspace.logs_dir / f"{job.id}.metrics.jsonl", "a", encoding="utf-8") as out:
            out.write("".join(metrics))
    return kept


def _exit_code(details: dict[str, Any]) -> int:
    code = details.get("driver_exit_code")
    if code is not None:
        return int(code)
    return {"SUCCEEDED": 0, "STOPPED": 130}.get(str(details.get("status")), 1)


def supervise(job: Job, job_file: Path) -> int:
    workspace = Workspace.resolve(job.workspace)
    address = workspace.stores.ray_address
    client = client_for(address)
    stop = {"requested": False}

    def request_stop(_signum: int, _frame: Any) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    shipped = workspace.stores.ships_data
    if shipped:
        from core.jobs.shipping import experiment_problem, receive_outputs, shipping_problem

        problem = shipping_problem(workspace, job) or experiment_problem(workspace, str(job.theme))
        if problem:
            raise CockpitError(problem)
        # outputs an earlier attempt sent but no supervisor took in (it died): first
        receive_outputs(workspace, job.id, echo=lambda line: print(line, flush=True))
    submission_id = _submit_or_follow(client, job, job_file, shipped)
    state = {"written": 0, "stop_sent": False, "placed": False, "logs_read_at": 0.0,
             "shipped": shipped}
    unreachable_since: float | None = None
    while True:
        try:
            code = _poll(client, workspace, job, submission_id, stop["requested"], state)
        except (OSError, ValueError) as exc:  # the dashboard restarting, a network blip
            now = time.time()
            if unreachable_since is None:
                unreachable_since = now
                print(f"Ray dashboard not answering ({exc}); asking again", flush=True)
            elif now - unreachable_since > DASHBOARD_PATIENCE_S:
                raise store_problem("ray_address", address, exc) from exc
            time.sleep(1)
            continue
        unreachable_since = None
        if code is not None:
            if shipped:
                receive_outputs(workspace, job.id, echo=lambda line: print(line, flush=True))
            return code
        time.sleep(POLL_S)


def _poll(
    client: JobsClient,
    workspace: Workspace,
    job: Job,
    submission_id: str,
    stop_requested: bool,
    state: dict[str, Any],
) -> int | None:
    """One look at the Ray job: stop it when asked, record its node, copy its new log;
    its exit code once it ended, else None."""
    if stop_requested and not state["stop_sent"]:
        print(f"stopping Ray job {submission_id} (a checkpoint is kept)", flush=True)
        client.stop_job(submission_id)
        state["stop_sent"] = True
    details = client.get_job_info(submission_id)
    if not state["placed"]:
        state["placed"] = _record_node(workspace, job, details)
    ended = details.get("status") in TERMINAL
    if ended or time.time() - state["logs_read_at"] >= LOG_POLL_S:
        logs = client.get_job_logs(submission_id)  # the whole log: copy what is new
        state["logs_read_at"] = time.time()
        new = logs[state["written"] :]
        if not ended:  # whole lines only: a metrics line is taken out by its prefix
            new = new[: new.rfind("\n") + 1]
        if new:
            state["written"] += len(new)
            if state["shipped"]:
                new = _take_metrics(workspace, job, new)
            sys.stdout.write(new)
            sys.stdout.flush()
    if not ended:
        return None
    code = _exit_code(details)
    if code != 0 and details.get("message"):
        print(f"Ray: {details['message']}", flush=True)
    return code


def runs_here(job: Job) -> bool:
    """With ``stores.ray_data: ship`` only train jobs go to the cluster (with their data);
    a job that reads the whole workspace (suggestions, label issues, plots, checks) runs
    on this machine, in this process, as a local job would."""
    workspace = Workspace.resolve(job.workspace)
    return workspace.stores.ships_data and job.kind not in ("train", "tune")


def run_here(job: Job) -> int:
    from core.jobs.run import _interrupt, run, run_reported
    from core.output import configure_output

    signal.signal(signal.SIGTERM, _interrupt)
    configure_output()
    print(f"job {job.id}: a {job.kind} job reads the workspace, so it runs on this machine "
          "(stores.ray_data: ship sends train jobs to the cluster)", flush=True)
    return run_reported(lambda: run(job))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.jobs.ray_executor JOB.json", file=sys.stderr)
        return 2
    try:
        job_file = Path(args[0])
        job = load_job(job_file)
        if not _hold_job_lock(job):
            return ALREADY_RUNNING
        if runs_here(job):
            return run_here(job)
        return supervise(job, job_file.resolve())
    except CockpitError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr, flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
