"""The MLflow server of a workspace is shared by the windows open on it and does not
outlive a killed window: the next start stops the orphan first."""

import json
import os
import signal
import subprocess
import sys
import time

from core.models.mlflow_server import MlflowServer
from core.processes import kill_process_group, process_alive

OWNER = """
import sys, time
from core.models.mlflow_server import MlflowServer
from core.workspace import Workspace
server = MlflowServer(Workspace.resolve(sys.argv[1]))
server.start()
print(server.port, server.process.pid, flush=True)
time.sleep(600)
"""


def test_a_live_owners_server_is_shared_and_a_dead_owners_server_is_replaced(workspace):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(workspace.root)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    first_pid = None
    try:
        port, first_pid = (int(x) for x in owner.stdout.readline().split())
        shared = MlflowServer(workspace)
        assert shared.start() == f"http://127.0.0.1:{port}"
        assert shared.process is None and shared.shared_pid == first_pid and shared.running
        shared.stop()  # not ours to stop
        assert process_alive(first_pid, None) and MlflowServer(workspace, port=port).answers()

        os.killpg(owner.pid, signal.SIGKILL)  # the window dies; its server lives on
        owner.wait(timeout=30)
        assert process_alive(first_pid, None)

        replacement = MlflowServer(workspace)
        replacement.start()
        try:
            deadline = time.time() + 15
            while process_alive(first_pid, None) and time.time() < deadline:
                time.sleep(0.1)
            assert not process_alive(first_pid, None)
            assert replacement.process is not None and replacement.answers()
            recorded = json.loads(replacement.state_file.read_text())
            assert recorded["pid"] == replacement.process.pid
            assert recorded["owner"] == os.getpid()
        finally:
            replacement.stop()
        assert not replacement.state_file.exists()
    finally:
        if owner.poll() is None:
            os.killpg(owner.pid, signal.SIGKILL)
        if first_pid and process_alive(first_pid, None):
            kill_process_group(first_pid)
