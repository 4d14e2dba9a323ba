"""A queued job: what to run, frozen at submit, and its life so far."""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.processes import this_host  # noqa: F401  (the queue's owners are named by it)

State = Literal["pending", "running", "finished", "failed", "cancelled"]
Kind = Literal["train", "tune", "plot", "check", "suggest", "label_issues"]
TERMINAL: tuple[State, ...] = ("finished", "failed", "cancelled")
# A killed job (OOM killer, a user's kill -9, a runner that died) did nothing wrong and
# resumes from its checkpoint, so kills do not use up max_retries. A job that dies every
# time it runs (it needs more memory than the machine has) must still not loop forever:
# ten kills is far more than crashes and restarts cause by chance (a runner crash counts
# for each job it orphaned), and an eleventh kill fails a doomed job after eleven starts.
MAX_KILLS = 10


def new_job_id() -> str:
    """Sortable by submit time, unique across processes: 20261125-205050-3f9a1c."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_job_id)
    kind: Kind = "train"
    state: State = "pending"
    workspace: str
    theme: str | None = None
    # what people call the run (display only, never in the experiment id): the user's
    # run_name, else the parameters that differ from the defaults (core.config.naming)
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)  # all_params frozen at submit
    # the rest of the experiment, validated and frozen at submit: the job trains with
    # these, not with the workspace's files of the moment (None: an older job file)
    augments: dict[str, Any] | None = None  # augments.yaml, parsed and validated
    registry: dict[str, Any] | None = None  # the chosen registry.json entries
    code: dict[str, str] | None = None  # digests of the definitions' source files
    data_fingerprint: dict[str, Any] | None = None
    experiment_id: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)  # kind-specific (restart, n_trials…)
    # the pre-flight check at submit: warnings, the corrected configuration offered, and
    # the environment it was checked in (library versions, CUDA, free memory and disk)
    preflight: dict[str, Any] = Field(default_factory=dict)
    priority: int = 0  # higher runs first
    position: float = 0.0  # order among equal priorities
    attempts: int = 0  # times a job process was started for it
    max_retries: int = 2  # failures of the job itself (exit code) before it is given up
    failures: int = 0
    kills: int = 0  # times its process died of a signal or with its runner (see MAX_KILLS)
    cancel_requested: bool = False
    created_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    pid: int | None = None
    pid_started_at: float | None = None  # tells a reused pid from our process
    host: str | None = None  # owner: the runner that claimed it (host, pid, start time)
    runner_pid: int | None = None
    runner_started_at: float | None = None
    device: str | None = None  # "cuda:0", "cpu:0"; on a Ray cluster "ray-gpu:0", "ray-cpu:0"
    node: str | None = None  # the Ray node running it (its address), once Ray placed it
    error: str | None = None
    revision: int = 0  # grows with every write; the newest copy wins after a crash

    def order_key(self) -> tuple[float, float, float]:
        return (-self.priority, self.position, self.created_at)

    @property
    def where(self) -> str | None:
        """Its device, and the Ray node running it: ``ray-gpu:0 @ 10.0.0.3``."""
        if self.device and self.node:
            return f"{self.device} @ {self.node}"
        return self.device

    @property
    def title(self) -> str:
        """The run's name, else its label (an older job file has no name)."""
        return self.name or self.label

    @property
    def attempts_allowed(self) -> int:
        """The most starts this job can have if this one and every later one fails (kills
        and stops do not count against ``max_retries``)."""
        return self.attempts + max(0, self.max_retries - self.failures)

    @property
    def label(self) -> str:
        model = self.params.get("model", "")
        return f"{self.kind} {self.theme or ''} {model}".strip()


def attempt_text(job: Job) -> str:
    """``attempt 2 of 3``: the job's latest start and the most it can have."""
    return f"attempt {job.attempts} of {job.attempts_allowed}"
