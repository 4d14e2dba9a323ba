"""The Ray job's supervisor over HTTP: a dashboard that stops answering for a moment does
not fail the job (the supervisor asks again), one that stays away fails it with one line.
A small HTTP server plays the dashboard's Jobs API here (the real head is in test_ray.py):
it answers 503 to the first job-state questions."""

from __future__ import annotations

import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import CockpitError
from core.jobs import ray_executor
from core.jobs.model import Job
from core.jobs.queue import JobQueue


class Dashboard(BaseHTTPRequestHandler):
    failures = 0  # job-state questions still to answer with 503
    asked = 0

    def log_message(self, *_args) -> None:
        pass

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._answer(200, {"ray_version": "test"})
        elif self.path == "/api/jobs/":
            self._answer(200, [])
        elif self.path.endswith("/logs"):
            self._answer(200, {"logs": "job line\n"})
        else:
            Dashboard.asked += 1
            if Dashboard.failures > 0:
                Dashboard.failures -= 1
                self._answer(503, {"error": "restarting"})
                return
            self._answer(200, {"status": "SUCCEEDED", "driver_exit_code": 0,
                               "driver_agent_http_address": "http://10.0.0.9:52365"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(200, {"submission_id": "cockpit-test-1", "job_id": None})


@pytest.fixture
def dashboard(monkeypatch):
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Dashboard)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("COCKPIT_RAY_ADDRESS", f"http://127.0.0.1:{server.server_port}")
    yield Dashboard
    server.shutdown()
    for sig, handler in handlers.items():  # the supervisor installs its own
        signal.signal(sig, handler)


def running_job(workspace) -> Job:
    queue = JobQueue(workspace)
    queue.submit(Job(kind="check", workspace=str(workspace.root)))
    return queue.claim_next("ray-cpu:0", "this-host", 1)


def test_a_dashboard_away_for_a_moment_does_not_fail_the_job(dashboard, workspace, capsys):
    dashboard.failures, dashboard.asked = 2, 0
    job = running_job(workspace)
    code = ray_executor.supervise(job, JobQueue(workspace).path(job))
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("Ray dashboard not answering") == 1  # said once, not per question
    assert "job line" in out and dashboard.asked == 3
    assert JobQueue(workspace).get(job.id).node == "10.0.0.9"


def test_a_dashboard_that_stays_away_fails_the_job_with_one_line(
    dashboard, workspace, monkeypatch
):
    dashboard.failures = 10**6
    monkeypatch.setattr(ray_executor, "DASHBOARD_PATIENCE_S", 1.5)
    job = running_job(workspace)
    with pytest.raises(CockpitError) as failed:
        ray_executor.supervise(job, JobQueue(workspace).path(job))
    assert "ray_address" in str(failed.value) and "127.0.0.1" in str(failed.value)
    assert len(str(failed.value).splitlines()) == 1
