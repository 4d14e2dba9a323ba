import json

import pytest

from core.config import resolve_params
from core.errors import CockpitError
from core.registry import Registry, check_registry


def edit_registry(ws, change):
    data = json.loads(ws.registry_file.read_text())
    change(data)
    ws.registry_file.write_text(json.dumps(data))


def test_example_registry_loads_every_definition(workspace):
    findings = {(f.kind, f.name): f for f in check_registry(workspace, deep=True)}
    assert findings["model", "simple_cnn"].status == "ok"
    assert findings["model", "resnet"].status == "ok"
    assert findings["adapter", "resnet/classification"].status == "ok"
    # the dataset's datamodule arrives with the data layer
    assert findings["dataset", "images"].status in ("ok", "incomplete")
    assert not [f for f in findings.values() if f.status in ("error", "unregistered")]


def test_name_not_registered_suggests_the_close_one(workspace):
    registry = Registry.from_workspace(workspace)
    with pytest.raises(
        CockpitError, match=r"model 'simple_cn' is not registered.*did you mean 'simple_cnn'"
    ):
        registry.model("simple_cn")
    with pytest.raises(
        CockpitError, match="adapter of model 'resnet' 'detection' is not registered"
    ):
        registry.adapter("resnet", "detection")


def test_missing_module_names_the_expected_file(workspace):
    edit_registry(
        workspace,
        lambda d: d["models"]["resnet"].update(
            model="definitions.models.resnet.modle:ResNetClassifier"
        ),
    )
    findings = {f.name: f for f in check_registry(workspace)}
    assert findings["resnet"].status == "error"
    assert "expected the file definitions/models/resnet/modle.py" in findings["resnet"].detail


def test_missing_class_lists_what_the_module_defines(workspace):
    edit_registry(
        workspace,
        lambda d: d["models"]["simple_cnn"].update(
            config="definitions.models.simple_cnn.config:Nope"
        ),
    )
    with pytest.raises(CockpitError, match=r"has no 'Nope' \(it defines: SimpleCNNConfig\)"):
        resolve_params(workspace)


def test_definition_that_fails_to_import_names_file_and_line(workspace):
    config = workspace.definitions_dir / "models" / "simple_cnn" / "config.py"
    config.write_text(config.read_text() + "\n1/0\n")
    with pytest.raises(
        CockpitError,
        match=r"importing definitions/models/simple_cnn/config.py failed \(config.py line \d+\): ZeroDivisionError",
    ):
        resolve_params(workspace)


def test_malformed_registry_is_reported_with_its_location(workspace):
    edit_registry(workspace, lambda d: d["models"]["resnet"].update(model="not a ref"))
    with pytest.raises(
        CockpitError, match=r"registry.json: models\.resnet\.model: .*'package.module:ClassName'"
    ):
        Registry.from_workspace(workspace)
    edit_registry(workspace, lambda d: d["models"]["resnet"].update(model="a:B", weights="x"))
    with pytest.raises(CockpitError, match=r"models\.resnet\.weights: unknown key"):
        Registry.from_workspace(workspace)


def test_inspector_lists_definitions_on_disk_not_registered(workspace):
    folder = workspace.definitions_dir / "models" / "vit"
    (folder / "adapters" / "classification").mkdir(parents=True)
    (folder / "config.py").write_text("")
    (folder / "adapters" / "classification" / "config.py").write_text("")
    unregistered = {
        (f.kind, f.name)
        for f in check_registry(workspace, deep=False)
        if f.status == "unregistered"
    }
    assert unregistered == {("model", "vit"), ("adapter", "vit/classification")}


def test_switching_workspace_never_reuses_the_other_definitions(tmp_path):
    from core.scaffold import init_workspace

    first = init_workspace(tmp_path / "one").workspace
    second = init_workspace(tmp_path / "two").workspace
    config = second.definitions_dir / "models" / "simple_cnn" / "config.py"
    config.write_text(config.read_text().replace("] = 0.0", "] = 0.5"))
    assert resolve_params(first).values["dropout"] == 0.0
    assert resolve_params(second).values["dropout"] == 0.5
    assert resolve_params(first).values["dropout"] == 0.0
