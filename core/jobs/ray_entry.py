"""The entrypoint of a cockpit job on a Ray node.

``python -m core.jobs.ray_entry JOB.json``: the workspace is mounted at the same path on
every node (``stores.ray_data: shared``); the job runs as ``core.jobs.run`` runs it,
except for the job lock, which the supervisor on the runner's machine holds
(``core.jobs.ray_executor``). A node that does not see the workspace fails at once with
one line saying so.

``python -m core.jobs.ray_entry --shipped SUBMISSION_ID``: the job's data came with it
(``stores.ray_data: ship``, ``core.jobs.shipping``); the working directory is the
unpacked copy, and the job runs against it. Its metrics lines are copied into its log
as it runs, and the files it wrote under ``output/`` go back through the workspace
database when it ends - finished, failed or stopped (a stop keeps its checkpoint).
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

from core.jobs.run import _interrupt, load_job, run, run_reported
from core.output import configure_output


def run_shipped(submission_id: str) -> int:
    from core.jobs import shipping
    from core.workspace import Workspace

    root = Path.cwd()
    job = load_job(root / shipping.PACKAGE_JOB_FILE)
    job = job.model_copy(update={"workspace": str(root)})
    workspace = Workspace.resolve(root)
    print(f"job {job.id}: running on {socket.gethostname()} with the data it brought "
          f"({root})", flush=True)
    before = shipping.file_states(root)
    echo = shipping.MetricsEcho(workspace.logs_dir / f"{job.id}.metrics.jsonl").start()
    code = 1
    try:
        code = run_reported(lambda: run(job))
    except SystemExit as exc:  # Lightning ends an interrupted fit with exit(1)
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the outputs go back whole
        echo.close()
    names = shipping.written_files(root, before)
    if names:
        try:
            size = shipping.send_outputs(workspace, job, submission_id, names)
        except Exception as exc:  # the database unreachable: the outputs stay on the node
            print(
                f"error: the job's {len(names)} output file(s) could not be sent back "
                f"({' '.join(str(exc).split())[:300]}); they are in {root} on this node",
                file=sys.stderr,
                flush=True,
            )
            return code or 1
        print(f"sent {len(names)} output file(s) back ({size / 2**20:.1f} MiB)", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--shipped":
        signal.signal(signal.SIGTERM, _interrupt)
        configure_output()
        return run_shipped(args[1])
    if len(args) != 1:
        print("usage: python -m core.jobs.ray_entry JOB.json | --shipped SUBMISSION_ID",
              file=sys.stderr)
        return 2
    job_file = Path(args[0])
    if not job_file.is_file():
        print(
            f"error: node {socket.gethostname()} does not see the job file {job_file}: mount "
            "the workspace at the same path on every Ray node, or let the job take its data "
            "with it (stores.ray_data: ship; docs/scale-out.md)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    configure_output()  # as a local job: no library chatter in the job's log
    return run_reported(lambda: run(load_job(job_file)))


if __name__ == "__main__":
    sys.exit(main())
