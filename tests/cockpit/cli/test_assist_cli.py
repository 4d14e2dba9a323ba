"""``cockpit suggest``, ``cockpit suggestions …`` and ``cockpit label-issues`` on a real
workspace with a registered model; bad input is one line, exit 2, and its advice works."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cockpit.cli import cli
from core.data.themes import get_theme
from core.db import TrainData, open_database
from core.jobs.queue import JobQueue


def run(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], catch_exceptions=False)


def error_lines(result):
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def unlabeled(db):
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
        return (
            session.query(TrainData)
            .filter(TrainData.theme_id == theme_id, TrainData.label_id.is_(None))
            .count()
        )


def test_suggest_accept_preview_and_undo(assisted):
    ws = assisted.workspace
    result = run(ws, "suggest", "--theme", "shapes", "--model", "shapes_model/1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["predicted"] == 6

    listed = run(ws, "suggestions", "list", "--theme", "shapes", "--json")
    rows = json.loads(listed.output)
    assert all(r["model"] == "shapes_model/1" for r in rows)
    assert len([r for r in rows if r["given_label"] is None]) == 6

    preview = run(ws, "suggestions", "accept", "--theme", "shapes", "--min-prob", "0", "--dry-run")
    assert preview.exit_code == 0 and "would accept 6 suggestion(s)" in preview.output
    db = open_database(ws)
    assert unlabeled(db) == 6

    done = run(ws, "suggestions", "accept", "--theme", "shapes", "--min-prob", "0", "--json")
    assert json.loads(done.output)["accepted"] == 6
    with db.session() as session:
        by = {
            i.labeled_by
            for i in session.query(TrainData).filter(TrainData.labeled_by.like("model:%"))
        }
    assert by == {"model:shapes_model/1"}

    undone = run(ws, "suggestions", "undo", "--theme", "shapes")
    assert undone.exit_code == 0 and "6 label(s) restored" in undone.output
    assert unlabeled(db) == 6


def test_bad_inputs_are_one_line_and_the_advice_works(assisted, tmp_path):
    ws = assisted.workspace
    # a theme without suggestions: the advice names the command that makes them
    from core.data.importer import import_images
    from core.data.themes import create_theme
    from core.demo import write_demo_images

    create_theme(open_database(ws), "shapes2", ["circle", "square", "triangle"])
    write_demo_images(tmp_path / "s2", per_class=1, size=16, seed=4)
    import_images(open_database(ws), ws, "shapes2", sorted((tmp_path / "s2").rglob("*.png")))
    result = run(ws, "suggestions", "accept", "--theme", "shapes2", "--min-prob", "0.5")
    assert result.exit_code == 2 and len(error_lines(result)) == 1
    advised = result.output.split("`")[1].split()
    assert advised[:2] == ["cockpit", "suggest"]
    followed = run(ws, *advised[1:])
    assert followed.exit_code == 0, followed.output
    again = run(ws, "suggestions", "accept", "--theme", "shapes2", "--min-prob", "0", "--dry-run")
    assert again.exit_code == 0 and "would accept 3 suggestion(s)" in again.output

    result = run(ws, "suggestions", "accept", "--theme", "shapes2", "--min-prob", "1.5")
    assert result.exit_code == 2 and len(error_lines(result)) == 1
    assert "e.g. 0.9" in result.output
    followed = run(
        ws, "suggestions", "accept", "--theme", "shapes2", "--min-prob", "0.9", "--dry-run"
    )
    assert followed.exit_code == 0, followed.output

    result = run(ws, "suggest", "--theme", "shapes", "--model", "shapes_model/9")
    assert result.exit_code == 2 and len(error_lines(result)) == 1
    assert "versions: 1" in result.output
    assert run(ws, "suggest", "--theme", "shapes", "--model", "shapes_model/1").exit_code == 0

    result = run(ws, "suggest", "--theme", "shapez", "--model", "shapes_model", "--submit")
    assert result.exit_code == 2
    assert "shapes" in error_lines(result)[0].split("themes:")[1].replace(",", " ").split()

    before = {job.id for job in JobQueue(ws).jobs()}  # the workspace is shared by the session
    result = run(ws, "label-issues", "--theme", "shapes", "--folds", "1", "--submit", "--no-runner")
    assert result.exit_code == 2 and "give at least 2" in error_lines(result)[0]
    assert {job.id for job in JobQueue(ws).jobs()} == before
    queued = run(ws, "label-issues", "--theme", "shapes", "--folds", "2", "--submit", "--no-runner")
    assert queued.exit_code == 0, queued.output
    [job] = [job for job in JobQueue(ws).jobs() if job.id not in before]
    assert (job.kind, job.args["folds"]) == ("label_issues", 2)
    JobQueue(ws).cancel(job.id)
