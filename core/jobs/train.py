"""``python -m core.jobs.train JOB.json``: run one training job as its own process.

The job file holds the workspace, the theme and the parameters frozen at submit time
(``all_params`` as resolved then); they are validated again here so a job edited by hand
fails with a clear message. Exit codes: 0 done (or already complete), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.errors import CockpitError
from core.fileio import read_text
from core.workspace import Workspace


def load_job(path: Path) -> dict[str, Any]:
    try:
        job = json.loads(read_text(path, "job file"))
    except json.JSONDecodeError as exc:
        raise CockpitError(f"job file {path}: invalid JSON ({exc.msg}, line {exc.lineno})") from exc
    for key in ("workspace", "theme", "params", "job_id"):
        if key not in job:
            raise CockpitError(f"job file {path}: missing key {key!r}")
    return job


def run_job(path: Path) -> int:
    from core.config import resolve_params
    from core.training.run import train_experiment

    job = load_job(path)
    workspace = Workspace.resolve(job["workspace"])
    params = resolve_params(
        workspace, base=job["params"], base_label=f"job {job['job_id']}", read_params_file=False
    )
    outcome = train_experiment(
        workspace,
        job["theme"],
        params,
        job_id=job["job_id"],
        restart=bool(job.get("restart")),
        echo=lambda line: print(line, flush=True),
    )
    print(f"experiment {outcome.experiment_id}: done", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.jobs.train JOB.json", file=sys.stderr)
        return 2
    try:
        return run_job(Path(args[0]))
    except CockpitError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr, flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
