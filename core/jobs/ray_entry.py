"""The entrypoint of a cockpit job on a Ray node: ``python -m core.jobs.ray_entry JOB.json``.

Runs the job as ``core.jobs.run`` does, except for the job lock, which the supervisor on
the runner's machine holds (``core.jobs.ray_executor``). A node that does not see the
workspace at the same path fails at once with one line saying so.
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

from core.jobs.run import _interrupt, load_job, run, run_reported
from core.output import configure_output


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m core.jobs.ray_entry JOB.json", file=sys.stderr)
        return 2
    job_file = Path(args[0])
    if not job_file.is_file():
        print(
            f"error: node {socket.gethostname()} does not see the job file {job_file}: mount "
            "the workspace at the same path on every Ray node (docs/scale-out.md)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    configure_output()  # as a local job: no library chatter in the job's log
    return run_reported(lambda: run(load_job(job_file)))


if __name__ == "__main__":
    sys.exit(main())
