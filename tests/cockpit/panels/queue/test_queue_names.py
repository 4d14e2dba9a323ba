"""The Queue tells runs apart by name: a dozen ended trainings, a study and pending jobs
(named by what differs, or by the user), shown in a light and a dark palette."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cockpit.panels.queue.model import COLUMNS, JobIdRole
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from tests.cockpit.palettes import dark_palette
from tests.core.history.recorded_runs import write_recorded_runs

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("palette_name", ["light", "dark"])
def test_queue_shows_run_names(qtbot, qapp, workspace, palette_name, screenshot_dir):
    from cockpit.panels.queue import QueuePanel

    write_recorded_runs(workspace)
    queue = JobQueue(workspace)
    pending = [
        queue.write(Job(workspace=str(workspace.root), theme="animals", name=name, params=params))
        for name, params in (
            ("lr=0.05 bs=16", {"model": "simple_cnn", "lr": 0.05, "batch_size": 16}),
            ("<b>baseline</b>", {"model": "simple_cnn"}),  # user text, shown as typed
        )
    ]
    before = qapp.palette()
    if palette_name == "dark":
        qapp.setPalette(dark_palette())
    panel = QueuePanel(workspace)
    try:
        qtbot.addWidget(panel)
        panel.resize(1280, 800)
        panel.show()
        qtbot.waitUntil(lambda: panel._loaded, timeout=30_000)
        model = panel.model
        name_column = COLUMNS.index("Name")
        names = {
            model.index(r, 0).data(JobIdRole): model.index(r, name_column).data()
            for r in range(model.rowCount())
        }
        assert len(names) == 15
        assert names[pending[1].id] == "<b>baseline</b>"
        assert "lr=0.01 bs=64 opt=sgd epochs=8" in names.values()
        # a click on a row selects that job; its tooltip names it, escaped
        row = next(
            r for r in range(model.rowCount()) if model.index(r, 0).data(JobIdRole) == pending[1].id
        )
        rect = panel.table.visualRect(model.index(row, name_column))
        QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert [i.data(JobIdRole) for i in panel.table.selectionModel().selectedRows()] == [
            pending[1].id
        ]
        tip = model.index(row, name_column).data(Qt.ItemDataRole.ToolTipRole)
        assert "&lt;b&gt;baseline&lt;/b&gt;" in tip
        panel.grab().save(str(screenshot_dir / f"queue_names_{palette_name}.png"))
    finally:
        panel.shutdown()
        qapp.setPalette(before)
