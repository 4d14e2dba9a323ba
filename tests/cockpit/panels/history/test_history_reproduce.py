"""The History panel's "Reproduce": a finished training, selected and clicked, is retrained
from its record (``cockpit reproduce --run``) as its own run with identical metrics."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from PySide6.QtCore import Qt

from tests.cockpit.panels.reproduce_workspace import one_version  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]


def test_reproduce_a_finished_run_from_the_history(qtbot, one_version):  # noqa: F811
    from cockpit.panels.history import HistoryPanel

    workspace, outcome = one_version
    panel = HistoryPanel(workspace)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
    try:
        assert not panel.reproduce_button.isEnabled()  # nothing selected
        entry = next(e for e in panel.entries if e.run_id == outcome.run_id)
        panel.select_ids([entry.id])
        assert panel.reproduce_button.isEnabled()
        with qtbot.waitSignal(panel.sig_reproduced, timeout=180_000) as signal:
            qtbot.mouseClick(panel.reproduce_button, Qt.MouseButton.LeftButton)
            assert panel.cancel_reproduce_button.isVisible()
        code, text = signal.args
        assert code == 0, text
        assert "metrics identical" in text and "test_acc: original" in panel.message.text()
        client = MlflowClient(tracking_uri=f"sqlite:///{workspace.mlflow_db_file}")
        runs = client.search_runs(
            [client.get_run(outcome.run_id).info.experiment_id],
            filter_string=f"tags.reproduction_of = '{outcome.run_id}'",
        )
        assert len(runs) == 1
    finally:
        panel.shutdown()
