"""Suggestion and label-issue finder runs show in the history: a run made in the
foreground is a row of its own (named ``suggest-N``), a job's run fills in its job's row;
both carry their counts and MLflow run, the history's signature moves when one is stored,
and a foreground row is not deleted from the history (it holds the theme's results)."""

from __future__ import annotations

from click.testing import CliRunner

from cockpit.cli import cli
from core.assist.suggest import suggest
from core.history import HistoryFilter, history_signature, list_entries


def _quiet(_line: str) -> None:
    pass


def _history(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), "history", *args])


def test_a_foreground_suggestion_run_is_a_history_row_with_its_counts(assisted):
    ws = assisted.workspace
    before = history_signature(ws)
    outcome = suggest(ws, "shapes", "shapes_model", echo=_quiet)
    assert history_signature(ws) != before  # the panel's poll sees the new run
    ident = f"suggest-{outcome.run_id}"
    [row] = [e for e in list_entries(ws) if e.id == ident]
    assert (row.kind, row.status, row.theme) == ("suggest", "finished", "shapes")
    assert row.run_id == outcome.mlflow_run_id and row.job_id is None
    assert row.name == "suggest shapes_model/1" and row.origin == ident
    assert row.counts == {"predicted": outcome.predicted, "unreadable": 0}
    assert row.duration is not None and row.duration >= 0

    # the history's default view is training and tuning; the kind filter finds it
    listed = _history(ws, "list")
    assert ident not in listed.output
    listed = _history(ws, "list", "--kind", "suggest")
    assert listed.exit_code == 0, listed.output
    assert ident in listed.output
    assert [e.id for e in list_entries(ws, HistoryFilter(kinds=("suggest",)))].count(ident) == 1
    shown = _history(ws, "show", ident)
    assert shown.exit_code == 0, shown.output
    assert f"predicted:  {outcome.predicted}" in shown.output
    assert outcome.mlflow_run_id in shown.output

    refused = _history(ws, "delete", ident, "--yes")
    assert refused.exit_code == 2
    assert "not deleted from here" in refused.output
    assert any(e.id == ident for e in list_entries(ws))


def test_a_suggestion_job_row_carries_its_run_and_no_second_row(assisted):
    from core.assist.jobs import submit_suggest
    from core.jobs.queue import JobQueue
    from core.jobs.run import run

    ws = assisted.workspace
    queue = JobQueue(ws)
    job = submit_suggest(ws, "shapes", "shapes_model", start=False)
    import os
    import socket

    claimed = queue.claim_next(
        "cpu", socket.gethostname(), os.getpid(), can_start=lambda c: c.id == job.id
    )
    assert claimed is not None and claimed.id == job.id
    assert run(claimed) == 0
    queue.finish(queue.get(job.id), "finished", 0, None)
    rows = [e for e in list_entries(ws) if e.kind == "suggest"]
    [row] = [e for e in rows if e.job_id == job.id]
    assert row.id == job.id and row.status == "finished"
    assert row.run_id and row.counts["predicted"] == 6
    # the same run is not listed a second time as a foreground row
    assert not [e for e in rows if e.job_id is None and e.run_id == row.run_id]
    queue.remove(job.id)
