"""The MLflow store survives a process killed while it creates it."""

import signal
import subprocess
import sys

from tests.reliability.storm import REPO_ROOT, integrity

# a process that dies (SIGKILL) in the middle of MLflow's schema migrations, right after
# one of them created a table: what a kill storm caught once
DIE_MID_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "after_cursor_execute")
def die(conn, cursor, statement, *args):
    if "CREATE TABLE logged_models" in statement:
        os.kill(os.getpid(), signal.SIGKILL)

from core.training.tracking import tracking_client
from core.workspace import Workspace
tracking_client(Workspace.resolve(sys.argv[1]))
"""


def test_a_kill_while_the_store_is_created_leaves_no_broken_store(workspace):
    died = subprocess.run(
        [sys.executable, "-c", DIE_MID_MIGRATION, str(workspace.root)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    from core.training.tracking import experiment_for_theme, tracking_client

    client = tracking_client(workspace)
    experiment_id = experiment_for_theme(client, workspace, "shapes")
    run = client.create_run(experiment_id)
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"
    assert integrity(workspace.mlflow_db_file) == "ok"
    assert not list(workspace.root.glob(".mlflow.db.*.tmp"))
