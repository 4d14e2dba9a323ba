"""Job files that cannot be read are moved to queue/corrupt/ (never deleted, never run,
never skipped silently) and listed with the reason and what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from click.testing import CliRunner

from cockpit.cli import cli
from core.jobs.model import Job
from core.jobs.queue import JobQueue, QueueScanner

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def submit(ws, **fields):
    return JobQueue(ws).submit(Job(kind="check", workspace=str(ws.root), **fields))


def truncate(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return raw[: len(raw) // 2]


def test_a_truncated_job_file_is_moved_to_corrupt_with_its_reason(workspace):
    queue = JobQueue(workspace)
    keep, broken = submit(workspace), submit(workspace)
    original = queue.path(broken)
    damaged = truncate(original)

    assert [j.id for j in queue.jobs()] == [keep.id]
    moved = queue.corrupt_dir / original.name
    assert not original.exists()
    assert moved.read_bytes() == damaged  # nothing lost: the same bytes, the same name
    [item] = queue.corrupt_files()
    assert item.path == moved and item.found_in == "pending"
    assert item.reason.startswith("truncated (line ")
    assert item.line(workspace) == (
        f"queue/corrupt/{original.name} (was pending): {item.reason}; repair {original.name} "
        "and move it back to queue/pending/ (keep the name), or delete it and submit the job "
        "again"
    )
    assert (
        json.loads((queue.corrupt_dir / f"{original.name}.reason").read_text())["found_in"]
        == "pending"
    )
    # the advice works: the repaired file moved back is a pending job again
    moved.write_text(broken.model_dump_json())
    os.replace(moved, original)
    assert sorted(j.id for j in queue.pending()) == sorted([keep.id, broken.id])


def test_a_file_written_by_a_newer_version_is_reported_as_such(workspace):
    queue = JobQueue(workspace)
    job = submit(workspace)
    data = json.loads(queue.path(job).read_text())
    data["resources"] = {"gpus": 2}
    queue.path(job).write_text(json.dumps(data))
    scanner = QueueScanner(queue)
    assert scanner.scan() == []
    [item] = queue.corrupt_files()
    assert item.newer
    assert item.reason == ("written by a newer version of the cockpit (unknown field 'resources')")
    assert "upgrade this one" in item.advice()


def test_temporary_files_being_written_are_never_taken_for_corrupt(workspace):
    queue = JobQueue(workspace)
    job = submit(workspace)
    half = queue.root / "pending" / f".{job.id}.json.abc.tmp"
    half.write_text(queue.path(job).read_text()[:20])
    assert [j.id for j in queue.jobs()] == [job.id]
    assert half.exists() and queue.corrupt_files() == []


def test_a_crash_after_the_link_leaves_one_copy_once_read_again(workspace):
    queue = JobQueue(workspace)
    job = submit(workspace)
    truncate(queue.path(job))
    queue.corrupt_dir.mkdir()
    os.link(queue.path(job), queue.corrupt_dir / queue.path(job).name)  # crashed here
    assert queue.jobs() == []
    assert sorted(p.name for p in queue.corrupt_dir.iterdir()) == [
        f"{job.id}.json",
        f"{job.id}.json.reason",
    ]
    assert not queue.path(job).exists()


def test_a_name_taken_in_corrupt_gets_a_suffix_never_overwrites(workspace):
    queue = JobQueue(workspace)
    job = submit(workspace)
    queue.corrupt_dir.mkdir()
    earlier = queue.corrupt_dir / f"{job.id}.json"
    earlier.write_text("an earlier damaged copy")
    truncate(queue.path(job))
    assert queue.jobs() == []
    assert earlier.read_text() == "an earlier damaged copy"
    assert (queue.corrupt_dir / f"{job.id}.json.1").exists()
    assert len(queue.corrupt_files()) == 2


READER = textwrap.dedent(
    """
    import sys
    from core.jobs.queue import JobQueue
    from core.workspace import Workspace
    queue = JobQueue(Workspace.resolve(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        queue.jobs()
    """
)

WRITER = textwrap.dedent(
    """
    import sys
    from core.jobs.queue import JobQueue
    from core.workspace import Workspace
    queue = JobQueue(Workspace.resolve(sys.argv[1]))
    job = queue.get(sys.argv[2])
    for n in range(int(sys.argv[3])):
        job.args = {"n": n, "padding": "x" * (n % 97) * 50}
        queue.write(job)
    """
)


def _python(code, *args):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env)


def test_concurrent_readers_quarantine_once_and_never_a_file_being_rewritten(workspace):
    queue = JobQueue(workspace)
    busy, broken = submit(workspace), submit(workspace)
    damaged = truncate(queue.path(broken))
    processes = [_python(WRITER, workspace.root, busy.id, 250)]
    processes += [_python(READER, workspace.root, 100) for _ in range(3)]
    for process in processes:
        assert process.wait(timeout=120) == 0
    names = sorted(p.name for p in queue.corrupt_dir.iterdir())
    assert names == [f"{broken.id}.json", f"{broken.id}.json.reason"]
    assert (queue.corrupt_dir / f"{broken.id}.json").read_bytes() == damaged
    assert [j.id for j in queue.jobs()] == [busy.id]  # rewritten 250 times, never corrupt


def test_queue_list_shows_unreadable_files_in_their_own_section(workspace):
    queue = JobQueue(workspace)
    keep, broken = submit(workspace), submit(workspace)
    truncate(queue.path(broken))
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "queue", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"pending    {keep.id}") for line in lines)
    header = lines.index("unreadable job files (1), never run, kept in queue/corrupt/:")
    assert lines[header + 1].startswith(
        f"corrupt    queue/corrupt/{broken.id}.json (was pending): truncated (line "
    )
    assert lines[header + 1].endswith("or delete it and submit the job again")


def test_a_file_replaced_by_a_good_one_while_being_moved_stays(workspace, monkeypatch):
    """The writer's atomic rename lands between the failed read and the move."""
    from core.fileio import atomic_write_text

    queue = JobQueue(workspace)
    job = submit(workspace)
    path = queue.path(job)
    good = path.read_text()
    truncate(path)
    real_link = os.link

    def link_after_a_rewrite(source, target):
        atomic_write_text(path, good)
        return real_link(source, target)

    monkeypatch.setattr(os, "link", link_after_a_rewrite)
    assert queue.jobs() == []  # this read saw the damaged file
    monkeypatch.undo()
    assert path.read_text() == good
    assert queue.corrupt_files() == []
    assert [j.id for j in queue.jobs()] == [job.id]
