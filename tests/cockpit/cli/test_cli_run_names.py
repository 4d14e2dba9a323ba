"""``--name`` on ``cockpit submit train``: a bad name is one line naming --name and the
rule (exit 2, nothing queued), and following the advice works; ``queue list`` and
``history list`` show the names."""

from __future__ import annotations

from click.testing import CliRunner

from cockpit.cli import cli
from core.jobs.queue import JobQueue
from tests.core.history.recorded_runs import write_recorded_runs
from tests.core.training.conftest import TINY


def run(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], catch_exceptions=False)


def test_submit_train_name_is_checked_then_listed(shapes_workspace):
    ws = shapes_workspace
    sets = [item for pair in (("--set", t) for t in TINY) for item in pair]
    bad = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", "--name", "a/b", *sets)
    assert bad.exit_code == 2
    lines = [line for line in bad.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--name 'a/b' is not allowed" in lines[0]
    assert "use 1-64 letters, digits, spaces or _ - . '" in lines[0]
    assert JobQueue(ws).jobs() == []
    good = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", "--name", "a b", *sets)
    assert good.exit_code == 0, good.output
    derived = run(
        ws, "submit", "train", "--theme", "shapes", "--no-runner", *sets, "--set", "lr=0.02"
    )
    assert derived.exit_code == 0, derived.output
    assert "'lr=0.02 bs=8 size=16 epochs=2 +1'" in derived.output
    table = run(ws, "queue", "list").output
    assert " a b " in table and " lr=0.02 bs=8 size=16 ep…" in table


def test_history_list_shows_names(workspace):
    write_recorded_runs(workspace)
    table = run(workspace, "history", "list", "--sort", "name", "--asc").output
    header, first = table.splitlines()[:2]
    assert header.split()[:2] == ["status", "name"]
    assert first.split()[1] == "bs=16"  # "bs=16 opt=adamw epochs=5", cut to its column
