"""The Queue panel shows job files that could not be read, with the reason and what to do."""

import pytest
from PySide6.QtCore import QThreadPool

from cockpit.panels.queue import QueuePanel
from core.jobs.model import Job
from core.jobs.queue import JobQueue

pytestmark = pytest.mark.filterwarnings("ignore")


def test_panel_warns_of_a_truncated_job_file_and_clears_when_repaired(qtbot, workspace):
    queue = JobQueue(workspace)
    keep = queue.submit(Job(kind="check", workspace=str(workspace.root)))
    broken = queue.submit(Job(kind="check", workspace=str(workspace.root)))
    intact = queue.path(broken).read_text()
    panel = QueuePanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    panel.show()
    try:
        qtbot.waitUntil(lambda: len(panel.jobs) == 2, timeout=10_000)
        assert panel.corrupt_label.isHidden()

        queue.path(broken).write_text(intact[:40])
        qtbot.waitUntil(lambda: panel.corrupt_label.isVisible(), timeout=10_000)
        text = panel.corrupt_label.text()
        assert text.startswith("⚠ 1 job file(s) could not be read; they were never run:")
        assert f"queue/corrupt/{broken.id}.json (was pending): truncated (line " in text
        assert "move it back to queue/pending/" in text
        assert [row.id for row in panel.model.rows] == [keep.id]

        moved = queue.corrupt_dir / f"{broken.id}.json"
        moved.write_text(intact)
        moved.rename(queue.path(broken))
        qtbot.waitUntil(lambda: panel.corrupt_label.isHidden(), timeout=10_000)
        qtbot.waitUntil(lambda: len(panel.model.rows) == 2, timeout=10_000)
    finally:
        panel.shutdown()
        QThreadPool.globalInstance().waitForDone()
