"""The file queue with real files, locks and concurrent processes."""

import json
import multiprocessing

import pytest

from core.config import resolve_params
from core.errors import CockpitError
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.workspace import Workspace


def make_job(ws, **fields):
    return Job(kind="check", workspace=str(ws.root), **fields)


def ids(jobs):
    return [j.id for j in jobs]


def test_submit_order_move_next_priority(workspace):
    queue = JobQueue(workspace)
    a, b, c, d = (queue.submit(make_job(workspace)) for _ in range(4))
    assert ids(queue.pending()) == [a.id, b.id, c.id, d.id]
    queue.move(d.id, 1)
    assert ids(queue.pending()) == [d.id, a.id, b.id, c.id]
    queue.move(d.id, 3)
    assert ids(queue.pending()) == [a.id, b.id, d.id, c.id]
    queue.move(a.id, 99)
    assert ids(queue.pending()) == [b.id, d.id, c.id, a.id]
    queue.run_next(c.id)
    assert ids(queue.pending())[0] == c.id
    queue.set_priority(a.id, 5)
    assert ids(queue.pending())[0] == a.id


def test_many_moves_between_the_same_neighbours_keep_a_total_order(workspace):
    queue = JobQueue(workspace)
    jobs = [queue.submit(make_job(workspace)) for _ in range(3)]
    for _ in range(80):  # halves the gap each time until floats run out, then renumbers
        queue.move(jobs[2].id, 2)
        queue.move(jobs[1].id, 2)
    order = ids(queue.pending())
    assert sorted(order) == sorted(ids(jobs)) and len(set(order)) == 3


def test_cancel_retry_remove_and_their_errors(workspace):
    queue = JobQueue(workspace)
    job = queue.submit(make_job(workspace))
    assert queue.cancel(job.id).state == "cancelled"
    with pytest.raises(CockpitError, match="already cancelled"):
        queue.cancel(job.id)
    with pytest.raises(CockpitError, match="only pending jobs can move"):
        queue.move(job.id, 1)
    assert queue.retry(job.id).state == "pending"
    with pytest.raises(CockpitError, match="cancel it before removing"):
        queue.remove(job.id)
    claimed = queue.claim_next("cpu:0", "host", 1)
    assert claimed.id == job.id and claimed.state == "running" and claimed.attempts == 1
    assert queue.cancel(job.id).cancel_requested  # running: the runner stops it
    queue.finish(claimed, "failed", 3, "boom")
    queue.remove(job.id)
    with pytest.raises(CockpitError, match="no job"):
        queue.get(job.id)


def test_duplicate_experiment_is_refused_while_pending(workspace):
    queue = JobQueue(workspace)
    first = queue.submit(make_job(workspace, experiment_id="abc"))
    with pytest.raises(CockpitError, match=f"already pending as job {first.id}"):
        queue.submit(make_job(workspace, experiment_id="abc"))
    queue.cancel(first.id)
    queue.submit(make_job(workspace, experiment_id="abc"))


def test_a_crash_between_write_and_unlink_leaves_one_job(workspace):
    queue = JobQueue(workspace)
    job = queue.submit(make_job(workspace))
    stale = (workspace.queue_state_dir("pending") / f"{job.id}.json").read_text()
    claimed = queue.claim_next("cpu:0", "h", 1)
    (workspace.queue_state_dir("pending") / f"{job.id}.json").write_text(stale)
    [seen] = queue.jobs()
    assert seen.state == "running" and seen.revision == claimed.revision


def test_unreadable_job_file_does_not_break_listing(workspace):
    queue = JobQueue(workspace)
    queue.submit(make_job(workspace))
    (workspace.queue_state_dir("pending") / "broken.json").write_text("{not json")
    assert len(queue.jobs()) == 1


def test_queue_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    ws = Workspace.resolve(tmp_path / "ws")
    ws.root.mkdir()
    (ws.root / "queue").write_text("a file where the folder should be")
    with pytest.raises(CockpitError, match="cannot create the queue folder"):
        JobQueue(ws).submit(make_job(ws))


def _submit_many(root: str, count: int) -> None:
    ws = Workspace.resolve(root)
    queue = JobQueue(ws)
    for _ in range(count):
        queue.submit(Job(kind="check", workspace=root))


def test_concurrent_submitters_lose_nothing(workspace):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_submit_many, args=(str(workspace.root), 25)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    pending = JobQueue(workspace).pending()
    assert len(pending) == 100 and len({j.id for j in pending}) == 100
    positions = [j.position for j in pending]
    assert len(set(positions)) == 100  # a total order, no ties from racing submitters


def test_frozen_parameters_round_trip_to_the_same_experiment(workspace):
    from core.jobs.submit import _frozen

    params = resolve_params(workspace)
    again = resolve_params(workspace, base=_frozen(params), read_params_file=False)
    assert again.experiment_id() == params.experiment_id()


def test_the_index_follows_the_job_files_which_stay_the_truth(workspace):
    queue = JobQueue(workspace)
    a, b, c = (queue.submit(make_job(workspace, experiment_id=f"exp{n}")) for n in range(3))
    index = queue.root / "index.json"
    assert index.exists()
    summaries = {s.id: s for s in queue.summaries()}
    assert [summaries[j.id].experiment_id for j in (a, b, c)] == ["exp0", "exp1", "exp2"]

    # a job file changed behind the index's back (by hand, another version): re-read
    edited = queue.get(b.id)
    edited.priority = 7
    queue.write(edited)
    assert ids(sorted(queue.summaries(("pending",)), key=lambda s: s.order_key()))[0] == b.id
    # a job file removed by hand: gone from the listing and from the duplicate check
    queue.path(queue.get(c.id)).unlink()
    assert c.id not in {s.id for s in queue.summaries()}
    queue.submit(make_job(workspace, experiment_id="exp2"))
    with pytest.raises(CockpitError, match="exp1 is already pending"):
        queue.submit(make_job(workspace, experiment_id="exp1"))

    # a damaged or foreign index is rebuilt from the files; nothing is lost
    damaged = ['{"format": 2, "folders": []}', '{"format": 2, "folders": {"pending": 3}}']
    damaged += ['{"format": 2, "folders": {"pending": {"x.json": 3}}}']
    damaged += [json.dumps({"format": 2, "folders": {"pending": {f"{a.id}.json": [1, 2]}}})]
    for garbage in ("{not json", '{"format": 99, "folders": {}}', '["a list"]', "", *damaged):
        index.write_text(garbage)
        assert {s.id for s in queue.summaries()} == {j.id for j in queue.jobs()}
        assert len(queue.summaries()) == 3

    # a stale entry whose stamp matches nothing is never trusted: the file decides
    queue.cancel(a.id)
    assert {s.id: s.state for s in queue.summaries()}[a.id] == "cancelled"
    assert queue.get(a.id).state == "cancelled"
