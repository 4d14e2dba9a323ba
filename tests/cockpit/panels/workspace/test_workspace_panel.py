from cockpit.panels.workspace import WorkspacePanel


def load(qtbot, workspace):
    panel = WorkspacePanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
    return panel


def table_rows(panel):
    table = panel.params_table
    return {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }


def test_shows_definitions_parameters_and_id(qtbot, workspace, screenshot_dir):
    panel = load(qtbot, workspace)
    rows = table_rows(panel)
    assert rows["lr"] == ("0.001", "configs/params.yaml")
    assert rows["dropout"] == ("0.0", "default (model simple_cnn)")
    experiment = panel.snapshot.params.experiment_id()
    assert experiment in panel.id_label.text()
    names = {
        panel.definitions.topLevelItem(i).child(j).text(0)
        for i in range(panel.definitions.topLevelItemCount())
        for j in range(panel.definitions.topLevelItem(i).childCount())
    }
    assert {"images", "simple_cnn", "resnet", "resnet/classification"} <= names
    assert not panel.error_label.isVisible()
    panel.grab().save(str(screenshot_dir / "panel_workspace.png"))


def test_reloads_when_params_change_and_shows_errors(qtbot, workspace, screenshot_dir):
    panel = load(qtbot, workspace)
    before = panel.snapshot.params.experiment_id()
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        workspace.params_file.write_text("lr: 0.02\n")
    assert table_rows(panel)["lr"] == ("0.02", "configs/params.yaml")
    assert panel.snapshot.params.experiment_id() != before
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        workspace.params_file.write_text("lr: 0.02\nbatch_sise: 3\n")
    assert panel.error_label.isVisible()
    assert "unknown key 'batch_sise'" in panel.error_label.text()
    assert panel.params_table.rowCount() == 0
    panel.grab().save(str(screenshot_dir / "panel_workspace_error.png"))
