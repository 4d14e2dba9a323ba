"""One followed job: the tails of its log and metrics files and what they said so far.

``poll()`` runs on a worker thread (one at a time, see the panel's timer); it reads only
new bytes and returns what the GUI thread has to apply. No Qt here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from cockpit.panels.live.metrics import JobMetrics
from core.jobs.tail import FileTail

LOG_FIRST_READ = 256 * 1024  # a long log opens at its last 256 KB
LOG_CHUNK = 1024 * 1024  # at most this much log text per poll: the view keeps 5,000 lines
METRICS_CHUNK = 16 * 1024 * 1024


@dataclass
class FeedUpdate:
    job_id: str
    log_text: str = ""
    log_reset: bool = False  # clear the log view before appending
    log_skipped: int = 0
    metrics_changed: bool = False
    more: bool = False  # bytes were left for the next poll


class JobFeed:
    def __init__(self, logs_dir: Path, job_id: str) -> None:
        self.job_id = job_id
        self.log_path = logs_dir / f"{job_id}.log"
        self.metrics_path = logs_dir / f"{job_id}.metrics.jsonl"
        self.metrics = JobMetrics()
        self._metrics_tail = FileTail(self.metrics_path, chunk=METRICS_CHUNK)
        self._log_tail = FileTail(self.log_path, first_read_max=LOG_FIRST_READ, chunk=LOG_CHUNK)
        self._lock = threading.Lock()
        self._follow_log = False
        self._log_restart = False

    def follow_log(self, on: bool) -> None:
        """Only the job shown in the log view reads its log; switching to it reads the
        log's end again."""
        with self._lock:
            self._log_restart = on and not self._follow_log
            self._follow_log = on

    def poll(self) -> FeedUpdate:
        update = FeedUpdate(self.job_id)
        with self._lock:
            follow, restart = self._follow_log, self._log_restart
            self._log_restart = False
        chunk = self._metrics_tail.read()
        if chunk.reset:
            self.metrics.clear()
        if chunk.text or chunk.reset:
            self.metrics.feed(chunk.lines)
            update.metrics_changed = True
        update.more = chunk.more
        if follow:
            if restart:
                self._log_tail.restart()
            log = self._log_tail.read()
            update.log_text = log.text
            update.log_reset = log.reset or restart
            update.log_skipped = log.skipped
            update.more = update.more or log.more
        return update
