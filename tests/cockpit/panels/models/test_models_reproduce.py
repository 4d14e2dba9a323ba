"""The Models panel's "Reproduce": a click retrains the selected version from its record in
a ``cockpit reproduce`` child process; "Cancel reproduction" stops it."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from PySide6.QtCore import Qt

from tests.cockpit.panels.reproduce_workspace import one_version  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]


def _panel(show_panel, workspace):
    from cockpit.panels.models import ModelsPanel

    return show_panel(ModelsPanel(workspace), timeout=60_000)


def test_reproduce_button_retrains_and_reports_identical_metrics(
    qtbot,
    show_panel,
    one_version,  # noqa: F811
):
    workspace, outcome = one_version
    panel = _panel(show_panel, workspace)
    assert panel.selected_version().version == "1"
    assert panel.reproduce_button.isEnabled()
    with qtbot.waitSignal(panel.sig_reproduced, timeout=180_000) as signal:
        qtbot.mouseClick(panel.reproduce_button, Qt.MouseButton.LeftButton)
        assert panel.cancel_reproduce_button.isVisible()
        assert not panel.reproduce_button.isEnabled()
    code, text = signal.args
    assert code == 0, text
    assert "metrics identical" in text
    assert "test_acc: original" in panel.message.text()
    assert not panel.cancel_reproduce_button.isVisible() and panel.reproduce_button.isEnabled()
    client = MlflowClient(tracking_uri=f"sqlite:///{workspace.mlflow_db_file}")
    runs = client.search_runs(
        [client.get_run(outcome.run_id).info.experiment_id],
        filter_string=f"tags.reproduction_of = '{outcome.run_id}'",
    )
    assert len(runs) == 1
    assert [str(v.version) for v in client.search_model_versions("name='shapes_model'")] == ["1"]


def test_cancel_stops_the_reproduction(qtbot, show_panel, one_version):  # noqa: F811
    workspace, _ = one_version
    panel = _panel(show_panel, workspace)
    with qtbot.waitSignal(panel.sig_reproduced, timeout=60_000) as signal:
        qtbot.mouseClick(panel.reproduce_button, Qt.MouseButton.LeftButton)
        process = panel.reproducer.process
        assert process is not None
        qtbot.mouseClick(panel.cancel_reproduce_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in signal.args[1]
    assert not panel.processes.running
    assert panel.reproduce_button.isEnabled() and not panel.cancel_reproduce_button.isVisible()
